# Sourced by /bin/k3s: the add-ons a server deploys (k3s's packaged manifests and its deploy
# controller, simplified), and CoreDNS's NodeHosts.
# shellcheck shell=bash

# A k3s server writes the manifests of its add-ons (here CoreDNS and local-storage) into
# server/manifests/, leaving out and removing those named by --disable, and applies every
# manifest found there, with server-side apply. Here that happens once, in the background once
# the node has registered, after the add-on images are imported: the boot does not wait for it.
# Those images' air-gap tarballs are imported apart from the ones the kubelet waits for, on
# every node (a volume's helper Pod runs on the volume's node).
ADDONS=/etc/kube-claims/addons
addon_disabled() { case ",$DISABLE," in *",$1,"*) return 0 ;; esac; return 1; }

import_addon_images() {
  local tar
  for tar in "$ADDONS"/images/*.tar; do
    [ -f "$tar" ] || continue
    ctr --address "$SOCK" -n k8s.io images import --no-unpack=false "$tar" >>"$LOGS/images.log" 2>&1 ||
      { say "failed to import $tar; its add-on's Pods will not start"; tail -n 5 "$LOGS/images.log"; return 1; }
  done
  pin_images
}

# deploy_addons: fd 3 is the node's output, the rest goes to $LOGS/deploy.log. Like k3s's deploy
# controller, it never gives up on a manifest: a busy or emulated API server may refuse or time out
# for minutes (stop 32's fresh-machine check: two emulated nodes side by side gave up on
# local-storage.yaml after 120 s, and a volume claim waited forever). After two minutes of
# failing it says so once, with kubectl's last words, and goes on trying.
deploy_addons() {
  local dir=$DATA/server/manifests f name since pending=() left applied=() pause=1 warned='' out said
  import_addon_images >&3 || true
  mkdir -p "$dir"
  for f in "$ADDONS"/*.yaml; do
    [ -f "$f" ] || continue
    name=${f##*/}; name=${name%.yaml}
    if addon_disabled "$name"; then rm -f "$dir/$name.yaml"; continue; fi
    sed -e "s|%{CLUSTER_DNS}%|$CLUSTER_DNS|g" -e "s|%{CLUSTER_DOMAIN}%|$CLUSTER_DOMAIN|g" \
      -e "s|%{NODE_HOSTS}%|$NODE_IP $NODE|g" -e "s|%{DEFAULT_LOCAL_STORAGE_PATH}%|$DATA/storage|g" "$f" >"$dir/$name.yaml"
  done
  for f in "$dir"/*.yaml "$dir"/*.yml "$dir"/*.json; do
    [ -f "$f" ] || continue
    if [ -e "$f.skip" ]; then echo "skipping $f ($f.skip exists)"; continue; fi
    pending+=("$f")
  done
  since=$SECONDS
  # The API has answered, but a fresh one may still refuse a moment (its own RBAC, quotas).
  while [ ${#pending[@]} -gt 0 ]; do
    left=()
    for f in "${pending[@]}"; do
      if out=$(kubectl apply --server-side --force-conflicts --field-manager="deploy@$NODE" -f "$f" 2>&1); then
        applied+=("${f##*/}")
      else
        left+=("$f"); said=${out##*$'\n'}
      fi
      printf '%s\n' "$out"
    done
    pending=("${left[@]}")
    [ ${#pending[@]} -gt 0 ] || break
    if [ -z "$warned" ] && [ $((SECONDS - since)) -ge 120 ]; then
      warned=1
      say "still applying ${pending[*]##*/} after $((SECONDS - since))s (kubectl said: $said); trying on" >&3
    fi
    sleep "$pause"; [ "$pause" -ge 10 ] || pause=$((pause * 2))
  done
  say "deployed ${applied[*]:-nothing} (server/manifests${DISABLE:+; disabled: $DISABLE})${warned:+ after $((SECONDS - since))s}" >&3
}

# keep_node_hosts: CoreDNS's NodeHosts ("InternalIP name" of every node) kept current as nodes
# join and leave, as a k3s server keeps it: rewritten when a watch of the nodes shows the set
# changed. Not with --disable=coredns. The ConfigMap is the deployed manifest's (deploy_addons).
keep_node_hosts() {
  addon_disabled coredns && return 0
  local current="" want data
  while :; do
    while read -r _; do
      want=$(kubectl get nodes -o jsonpath='{range .items[*]}{.status.addresses[?(@.type=="InternalIP")].address} {.metadata.name}{"\n"}{end}' | sort)
      [ -n "$want" ] && [ "$want" != "$current" ] || continue
      data=$(printf '%s\n' "$want" | awk '{printf "%s\\n", $0}')
      kubectl -n kube-system patch configmap coredns --type merge -p "{\"data\":{\"NodeHosts\":\"$data\"}}" >/dev/null && current=$want
    done < <(kubectl get nodes --watch -o name)
    sleep 1 # the watch ended (the API server closes watches after a while): watch again
  done
}

