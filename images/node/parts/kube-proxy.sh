# Sourced by /bin/k3s: Services.
# shellcheck shell=bash

# As k3s runs it on every node: iptables mode, the pod network as cluster CIDR, and no conntrack
# sysctls written (max per core and TCP timeouts 0: leave the kernel's; a container may not set
# them); health and metrics on 127.0.0.1 only. Started once the node is registered: it reads
# its node's addresses from the Node object, and (1.34 and later) exits when they change after
# a start without them.
start_kube_proxy() {
  [ "$KUBE_PROXY" = true ] || { say "kube-proxy disabled (--disable-kube-proxy)"; return 0; }
  say "starting kube-proxy ${PROXY_ARGS[*]:-}"
  start kube-proxy kube-proxy --proxy-mode=iptables --kubeconfig="$PROXY_KUBECONFIG" \
    --hostname-override="$NODE" --cluster-cidr=$CLUSTER_CIDR \
    --conntrack-max-per-core=0 --conntrack-tcp-timeout-established=0s --conntrack-tcp-timeout-close-wait=0s \
    --healthz-bind-address=127.0.0.1 --metrics-bind-address=127.0.0.1 "${PROXY_ARGS[@]}"
}

# kube-proxy has written its first rules: the `kubernetes` Service's ClusterIP (the first of
# the service network) has its iptables rule.
kube_proxy_synced() {
  [ "$KUBE_PROXY" = true ] || return 0
  local ip=${SERVICE_CIDR%/*}; ip=${ip%.*}.1
  # (grep reads it all: with -q it could stop early, and iptables die of SIGPIPE under pipefail.)
  iptables -w 5 -t nat -S KUBE-SERVICES | grep -- "-d $ip/32 " >/dev/null
}

