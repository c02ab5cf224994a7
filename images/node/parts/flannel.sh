# Sourced by /bin/k3s: the pod network.
# shellcheck shell=bash

# As in k3s: flanneld (vxlan) takes the node's pod subnet from its Node object (allocated by
# the controller-manager) and writes it to /run/flannel/subnet.env; the CNI config then puts
# pods on the bridge cni0 with addresses from that subnet.
start_flannel() {
  mkdir -p "$(dirname "$FLANNEL_CONF")"
  printf '{"Network": "%s", "EnableIPv6": false, "Backend": {"Type": "vxlan"}}\n' "$CLUSTER_CIDR" >"$FLANNEL_CONF"
  # flanneld gives up when the node has no pod subnet yet: wait for the controller-manager's.
  wait_until "the controller-manager to give node $NODE a pod subnet" \
    bash -c "kubectl get node '$NODE' -o jsonpath='{.spec.podCIDR}' | grep -q ."
  say "starting flannel"
  # k3s's flannel leaves the node's NetworkUnavailable condition alone (it has none); flanneld
  # sets it where it can be told not to (v0.25 on). (Its help is read whole first: piped into
  # `grep -q`, flanneld could die of SIGPIPE once grep had its line, and with pipefail the test
  # failed on a slower machine.)
  local quiet=() help; help=$(flanneld --help 2>&1 || true)
  [[ $help == *-set-node-network-unavailable* ]] && quiet=(--set-node-network-unavailable=false)
  start flanneld env NODE_NAME="$NODE" flanneld --kube-subnet-mgr --kubeconfig-file="$KUBELET_KUBECONFIG" \
    --net-config-path="$FLANNEL_CONF" --iface="$NODE_IP" --ip-masq --subnet-file=/run/flannel/subnet.env "${quiet[@]}"
  wait_until "flannel's subnet for node $NODE" test -s /run/flannel/subnet.env
  # shellcheck disable=SC1091 # written by flanneld
  . /run/flannel/subnet.env
  local subnet=${FLANNEL_SUBNET%.*}.0/${FLANNEL_SUBNET#*/}
  cat >/etc/cni/net.d/10-flannel.conflist <<CNI
{
  "cniVersion": "1.0.0",
  "name": "cbr0",
  "plugins": [
    {"type": "bridge", "bridge": "cni0", "isGateway": true, "isDefaultGateway": true, "ipMasq": false,
     "hairpinMode": true, "mtu": $FLANNEL_MTU,
     "ipam": {"type": "host-local", "ranges": [[{"subnet": "$subnet"}]], "routes": [{"dst": "$FLANNEL_NETWORK"}]}},
    {"type": "portmap", "capabilities": {"portMappings": true}},
    {"type": "bandwidth", "capabilities": {"bandwidth": true}}
  ]
}
CNI
  say "pod network: $subnet on this node, $FLANNEL_NETWORK in the cluster (flannel vxlan, mtu $FLANNEL_MTU)"
}

