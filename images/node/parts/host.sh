# Sourced by /bin/k3s: the host side of the node (cgroups, sysctls), set up first.
# shellcheck shell=bash

prepare_host() {
  local dir parent sub part pid
  mount --make-rshared / 2>/dev/null || true
  if [ "$CGROUP_V2" = true ]; then
    if [ "$OWN_CGROUPS" = false ]; then
      # v2 allows controllers for children only in a cgroup without processes of its own: move
      # this node's processes out of the namespace's root into /init (as k3s does in a
      # container), then hand every controller down to the kubelet's cgroups.
      mkdir -p /sys/fs/cgroup/init
      while read -r pid; do echo "$pid" >/sys/fs/cgroup/init/cgroup.procs 2>/dev/null || true; done </sys/fs/cgroup/cgroup.procs
      enable_controllers /sys/fs/cgroup
    else
      # The node's root and its parent, each with every controller enabled for its children.
      enable_controllers /sys/fs/cgroup
      mkdir -p "/sys/fs/cgroup${CGROUP_ROOT%/*}" "/sys/fs/cgroup$CGROUP_ROOT"
      enable_controllers "/sys/fs/cgroup${CGROUP_ROOT%/*}"
      enable_controllers "/sys/fs/cgroup$CGROUP_ROOT"
    fi
  else
    for dir in $(cgroup_dirs); do
      mkdir -p "$dir"
      case "$dir" in
        */cpuset/*)  # cpuset cgroups start empty in v1: copy the parent's cpus and mems down.
          parent=/sys/fs/cgroup/cpuset; sub=
          for part in ${CGROUP_ROOT//\// }; do
            sub=$sub/$part
            cat "$parent/cpuset.cpus" >"/sys/fs/cgroup/cpuset$sub/cpuset.cpus"
            cat "$parent/cpuset.mems" >"/sys/fs/cgroup/cpuset$sub/cpuset.mems"
            parent=/sys/fs/cgroup/cpuset$sub
          done ;;
      esac
    done
  fi
  say "cgroup $([ "$CGROUP_V2" = true ] && echo v2 || echo v1), kubelet cgroup root $CGROUP_ROOT ($([ "$OWN_CGROUPS" = true ] && echo "host's namespace" || echo "own namespace"))"
  sysctl -qw net.ipv4.ip_forward=1 || true
  # Bridged traffic through iptables (as k3s's agent sets it): a pod's reply to another pod on the
  # same bridge that reached it through a ClusterIP must pass kube-proxy's NAT to be un-DNATed.
  # Per network namespace since Linux 5.3, so a container may set its own.
  sysctl -qw net.bridge.bridge-nf-call-iptables=1 || say "note: could not set net.bridge.bridge-nf-call-iptables=1; a pod may not reach a Service backed on its own node"
}
