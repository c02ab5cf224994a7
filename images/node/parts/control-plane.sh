# Sourced by /bin/k3s: the control plane of a server (kine, kube-apiserver, kube-controller-manager,
# kube-scheduler) and who may do what in it.
# shellcheck shell=bash

# A single k3s server keeps its state in SQLite through kine, at k3s's paths: the database in
# server/db/state.db (kine's default, relative to the server folder, as k3s runs it) and the
# API server's etcd endpoint on server/kine.sock.
start_control_plane() {
  say "starting kine (sqlite)"
  mkdir -p "$DATA/server/db"
  start kine bash -c 'cd "$1" && exec kine --listen-address unix://kine.sock' kine "$DATA/server"
  wait_until "kine" test -S "$DATA/server/kine.sock"

  say "starting kube-apiserver"
  start kube-apiserver kube-apiserver --etcd-servers="unix://$DATA/server/kine.sock" \
    --bind-address=0.0.0.0 --secure-port=6443 --advertise-address="$NODE_IP" \
    --tls-cert-file="$TLS/apiserver.crt" --tls-private-key-file="$TLS/apiserver.key" \
    --client-ca-file="$TLS/ca.crt" --allow-privileged=true --authorization-mode=Node,RBAC \
    --service-cluster-ip-range=$SERVICE_CIDR --service-node-port-range=30000-32767 \
    --service-account-key-file="$TLS/sa.pub" \
    --service-account-signing-key-file="$TLS/sa.key" \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --api-audiences=https://kubernetes.default.svc.cluster.local \
    --kubelet-client-certificate="$TLS/apiserver-kubelet-client.crt" \
    --kubelet-client-key="$TLS/apiserver-kubelet-client.key" \
    --kubelet-preferred-address-types=InternalIP --enable-bootstrap-token-auth=true --profiling=false \
    "${APISERVER_ARGS[@]}"
  wait_until "kube-apiserver /readyz" kubectl get --raw /readyz

  say "starting kube-controller-manager and kube-scheduler"
  start kube-controller-manager kube-controller-manager --kubeconfig="$DATA/server/cred/controller-manager.conf" \
    --authentication-kubeconfig="$DATA/server/cred/controller-manager.conf" \
    --authorization-kubeconfig="$DATA/server/cred/controller-manager.conf" \
    --bind-address=127.0.0.1 --leader-elect=false --use-service-account-credentials=true \
    --service-account-private-key-file="$TLS/sa.key" --root-ca-file="$TLS/ca.crt" \
    --cluster-signing-cert-file="$TLS/ca.crt" --cluster-signing-key-file="$TLS/ca.key" \
    --allocate-node-cidrs=true --cluster-cidr=$CLUSTER_CIDR --node-cidr-mask-size=24 \
    --service-cluster-ip-range=$SERVICE_CIDR --profiling=false "${CONTROLLER_ARGS[@]}"
  start kube-scheduler kube-scheduler --kubeconfig="$DATA/server/cred/scheduler.conf" \
    --authentication-kubeconfig="$DATA/server/cred/scheduler.conf" \
    --authorization-kubeconfig="$DATA/server/cred/scheduler.conf" \
    --bind-address=127.0.0.1 --leader-elect=false --profiling=false "${SCHEDULER_ARGS[@]}"
}

# Who may do what, beyond Kubernetes' own roles: the API server on the kubelets (its kubeadm
# client certificate is in no group Kubernetes knows; k3s binds the same role); what joining
# needs (the bootstrap token, who may use it for what: ask for a node certificate, have it
# approved, renew it, read the CA), as kubeadm sets it up; what flannel may see; and what an
# agent's kube-proxy, with its node's credentials, needs.
cluster_access() {
  local id secret; id=$(bootstrap_token); secret=${id#*.}; id=${id%%.*}
  kubectl apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Secret
metadata: {name: bootstrap-token-$id, namespace: kube-system}
type: bootstrap.kubernetes.io/token
stringData:
  token-id: "$id"
  token-secret: "$secret"
  usage-bootstrap-authentication: "true"
  auth-extra-groups: system:bootstrappers:kube-claims
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: kube-claims:kube-apiserver-kubelet-client}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: system:kubelet-api-admin}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: kube-apiserver-kubelet-client}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: kube-claims:node-bootstrapper}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: system:node-bootstrapper}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: Group, name: system:bootstrappers:kube-claims}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: kube-claims:node-autoapprove-bootstrap}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: system:certificates.k8s.io:certificatesigningrequests:nodeclient}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: Group, name: system:bootstrappers:kube-claims}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: kube-claims:node-autoapprove-renewal}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: system:certificates.k8s.io:certificatesigningrequests:selfnodeclient}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: Group, name: system:nodes}]
---
# flannel runs with its node's credentials (k3s gives it a controller identity of its own); a
# node may read only its own Node object, and flannel needs to see them all.
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: kube-claims:flannel}
rules:
- {apiGroups: [""], resources: [nodes], verbs: [get, list, watch]}
- {apiGroups: [""], resources: [nodes/status], verbs: [patch]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: kube-claims:flannel}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: kube-claims:flannel}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: Group, name: system:nodes}]
---
# kube-proxy's role (read Services, EndpointSlices, Nodes; write Events). Kubernetes binds it to
# the user system:kube-proxy, the server's kube-proxy; agents' kube-proxies are nodes.
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: kube-claims:node-proxier}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: system:node-proxier}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: Group, name: system:nodes}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: kube-claims:read-ca, namespace: kube-public}
rules: [{apiGroups: [""], resources: [configmaps], resourceNames: [kube-root-ca.crt], verbs: [get]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: kube-claims:read-ca, namespace: kube-public}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: kube-claims:read-ca}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: Group, name: system:bootstrappers:kube-claims}]
YAML
}

