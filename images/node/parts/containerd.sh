# Sourced by /bin/k3s: containerd, its configuration and the air-gap images.
# shellcheck shell=bash

# start_containerd: its configuration, then containerd. The air-gap tarballs are imported in the
# background while the control plane starts; the kubelet waits for them (images_imported).
start_containerd() {
  configure_containerd
  say "starting containerd"
  start containerd containerd --config "$DATA/agent/etc/containerd.toml"
  import_images & IMPORT_PID=$!
}

# configure_containerd: containerd.toml, crictl's configuration and the registry mirrors.
configure_containerd() {
  # Lowering a process's oom_score_adj needs CAP_SYS_RESOURCE. Where the host's capability
  # bounding set lacks it (some VMs), runc could not start the pause container (-998): keep
  # oom_score_adj at or above the node's own instead.
  local restrict_oom=false line
  (( (0x$(sed -n 's/^CapBnd:\t//p' /proc/self/status) >> 24) & 1 )) || restrict_oom=true
  mkdir -p "$DATA/agent/etc"
  # The configuration in the format of the node's containerd: version 3 for containerd 2 (k3s
  # releases from 1.31), version 2 for containerd 1.7 (1.30's), with the same settings.
  # (`containerd --version`: "containerd github.com/containerd/containerd 1.7.27+unknown".)
  if [[ $(containerd --version) =~ \ v?1\.[0-9]+\. ]]; then
    cat >"$DATA/agent/etc/containerd.toml" <<TOML
version = 2
root = "$DATA/agent/containerd"
state = "$RUN/containerd"
[grpc]
  address = "$SOCK"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$(cat /etc/kube-claims/pause-image)"
  restrict_oom_score_adj = $restrict_oom
[plugins."io.containerd.grpc.v1.cri".containerd]
  snapshotter = "overlayfs"
[plugins."io.containerd.grpc.v1.cri".registry]
  config_path = "$DATA/agent/etc/containerd/certs.d"
[plugins."io.containerd.grpc.v1.cri".cni]
  bin_dir = "/usr/libexec/cni"
  conf_dir = "/etc/cni/net.d"
[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"
[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
  SystemdCgroup = false
TOML
  else
    cat >"$DATA/agent/etc/containerd.toml" <<TOML
version = 3
root = "$DATA/agent/containerd"
state = "$RUN/containerd"
[grpc]
  address = "$SOCK"
[plugins.'io.containerd.cri.v1.images']
  snapshotter = "overlayfs"
[plugins.'io.containerd.cri.v1.images'.registry]
  config_path = "$DATA/agent/etc/containerd/certs.d"
[plugins.'io.containerd.cri.v1.images'.pinned_images]
  sandbox = "$(cat /etc/kube-claims/pause-image)"
[plugins.'io.containerd.cri.v1.runtime']
  restrict_oom_score_adj = $restrict_oom
[plugins.'io.containerd.cri.v1.runtime'.cni]
  bin_dirs = ["/usr/libexec/cni"]
  conf_dir = "/etc/cni/net.d"
[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"
[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
  SystemdCgroup = false
TOML
  fi
  printf 'runtime-endpoint: unix://%s\nimage-endpoint: unix://%s\n' "$SOCK" "$SOCK" >"$CRI_CONFIG_FILE"
  # Registry mirrors, as k3s reads them: /etc/rancher/k3s/registries.yaml becomes one
  # certs.d/<registry>/hosts.toml per mirrored registry.
  mkdir -p "$DATA/agent/etc/containerd/certs.d"
  if [ -f /etc/rancher/k3s/registries.yaml ]; then
    kube-claims-registries /etc/rancher/k3s/registries.yaml "$DATA/agent/etc/containerd/certs.d" |
      while read -r line; do say "$line"; done
  fi
}

# import_images: the image tarballs of the node (the pause image) and of k3s's air-gap folder
# (agent/images), once containerd answers.
import_images() {
  local tar
  until ctr --address "$SOCK" version >/dev/null 2>&1; do
    kill -0 "${PID_OF[containerd]}" 2>/dev/null || { say "containerd exited"; tail -n 15 "$LOGS/containerd.log"; return 1; }
    sleep 0.1
  done
  for tar in /etc/kube-claims/images/*.tar "$DATA"/agent/images/*.tar; do
    [ -f "$tar" ] || continue
    say "importing images from $tar"
    ctr --address "$SOCK" -n k8s.io images import --no-unpack=false "$tar" >>"$LOGS/images.log" 2>&1 ||
      { say "failed to import $tar"; tail -n 5 "$LOGS/images.log"; return 1; }
  done
  pin_images
}

# As k3s's air-gap import: each image pinned (the kubelet's image GC leaves it) and also named by
# its digest (NAME@sha256:..., so that a container's Image ID names its repository).
pin_images() {
  local name digest
  while read -r name digest; do
    ctr --address "$SOCK" -n k8s.io images label "$name" io.cri-containerd.pinned=pinned io.cattle.k3s.pinned=pinned >/dev/null &&
      ctr --address "$SOCK" -n k8s.io images tag --force "$name" "${name%:*}@$digest" >/dev/null ||
      { say "failed to pin and tag $name"; return 1; }
  done < <(ctr --address "$SOCK" -n k8s.io images ls | awk 'NR > 1 && $1 !~ /@|^sha256:/ { print $1, $3 }')
}

# images_imported: wait for import_images; the node stops if it failed.
images_imported() {
  wait "$IMPORT_PID" || { say "importing images failed"; shutdown 1; }
}
