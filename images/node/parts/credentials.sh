# Sourced by /bin/k3s: a server's certificates and kubeconfigs, and an agent's join.
# shellcheck shell=bash

# Made by kubeadm's phases, as on a kubeadm control plane: the CA, the API server's serving and
# kubelet-client certificates, the service-account key pair, and a kubeconfig per component.
# Key types as in k3s: ECDSA P-256, and RSA 2048 for the service-account key. A phase keeps
# what an earlier start made.
kubeadm_config() { # kubeadm_config ENCRYPTION_ALGORITHM
  local sans; sans=$(printf '"%s", ' localhost 127.0.0.1 "${SANS[@]}")
  cat <<YAML
apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
localAPIEndpoint: {advertiseAddress: "$NODE_IP", bindPort: 6443}
nodeRegistration: {name: "$NODE", criSocket: "unix://$SOCK"}
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
# kubeadm's own version (one kubeadm serves every node image): it refuses versions it does not
# support, and what these phases write does not depend on the control plane's version.
kubernetesVersion: "$KUBEADM_VERSION"
clusterName: default
certificatesDir: "$TLS"
encryptionAlgorithm: $1
controlPlaneEndpoint: "127.0.0.1:6443"
networking: {serviceSubnet: "$SERVICE_CIDR", dnsDomain: cluster.local}
apiServer: {certSANs: [${sans%, }]}
YAML
}

# user_kubeconfig FILE KUBEADM_ARGS...: a client's kubeconfig in $DATA/server/cred, kept once made.
user_kubeconfig() {
  local file=$DATA/server/cred/$1; shift
  [ -s "$file" ] && return 0
  kubeadm kubeconfig user --config "$DATA/server/kubeadm.yaml" "$@" >"$file.part" && mv "$file.part" "$file"
}

make_credentials() {
  local cfg=$DATA/server/kubeadm.yaml phase
  KUBEADM_VERSION=$(kubeadm version -o short) || return
  kubeadm_config ECDSA-P256 >"$cfg" && kubeadm_config RSA-2048 >"$cfg.rsa" || return
  kubeadm init phase certs sa --config "$cfg.rsa" || return
  for phase in ca apiserver apiserver-kubelet-client; do kubeadm init phase certs "$phase" --config "$cfg" || return; done
  for phase in controller-manager scheduler kubelet; do
    kubeadm init phase kubeconfig "$phase" --config "$cfg" --kubeconfig-dir "$DATA/server/cred" || return
  done
  # k3s's admin, system:admin in system:masters; and its kube-proxy, system:kube-proxy, the user
  # Kubernetes' own binding gives the ClusterRole system:node-proxier.
  user_kubeconfig admin.kubeconfig --client-name system:admin --org system:masters || return
  user_kubeconfig kube-proxy.kubeconfig --client-name system:kube-proxy || return
  chmod 600 "$DATA/server/cred/"*
}

# k3s_yaml FILE: the admin kubeconfig as k3s writes it (cluster, user and context "default").
k3s_yaml() {
  local ca server cert key
  read -r ca server cert key < <(kubectl config view --kubeconfig "$DATA/server/cred/admin.kubeconfig" --raw -o \
    jsonpath='{.clusters[0].cluster.certificate-authority-data} {.clusters[0].cluster.server} {.users[0].user.client-certificate-data} {.users[0].user.client-key-data}{"\n"}')
  [ -n "$key" ] || { say "cannot read the admin kubeconfig $DATA/server/cred/admin.kubeconfig"; return 1; }
  cat >"$1" <<KC
apiVersion: v1
kind: Config
clusters:
- name: default
  cluster:
    certificate-authority-data: $ca
    server: $server
contexts:
- name: default
  context: {cluster: default, user: default}
current-context: default
users:
- name: default
  user:
    client-certificate-data: $cert
    client-key-data: $key
KC
  chmod 600 "$1"
}

# The bootstrap token behind a join token: Kubernetes' form ([a-z0-9]{6}.[a-z0-9]{16}) of the
# token's secret, so that server and agent derive the same one. A full token
# (K10<CA hash>::server:<secret>) and a bare secret both work, as with k3s.
bootstrap_token() {
  local h; h=$(printf '%s' "${TOKEN##*:}" | sha256sum)
  echo "${h:0:6}.${h:6:16}"
}

# server_credentials: the certificates and kubeconfigs (kept from an earlier start), the join
# token, and where the kubelet and kube-proxy find theirs.
server_credentials() {
  [ -f "$TLS/ca.crt" ] || say "generating certificates and kubeconfigs (kubeadm init phase certs, kubeconfig)"
  mkdir -p "$TLS" "$DATA/server/cred"
  make_credentials >>"$LOGS/kubeadm.log" 2>&1 || { say "kubeadm failed; its log:"; tail -n 20 "$LOGS/kubeadm.log"; exit 1; }
  export KUBECONFIG=$DATA/server/cred/admin.kubeconfig
  # The join token: given, kept from an earlier start, or new; written as k3s writes it.
  if [ -z "$TOKEN" ]; then TOKEN=$(cat "$DATA/server/token" 2>/dev/null || od -An -N16 -tx1 /dev/urandom | tr -d ' \n'); fi
  printf '%s\n' "$TOKEN" >"$DATA/server/token"
  printf 'K10%s::server:%s\n' "$(sha256sum <"$TLS/ca.crt" | cut -d' ' -f1)" "${TOKEN##*:}" >"$DATA/server/node-token"
  chmod 600 "$DATA/server/token" "$DATA/server/node-token"
  CA_FILE=$TLS/ca.crt
  KUBELET_KUBECONFIG=$DATA/server/cred/kubelet.conf
  PROXY_KUBECONFIG=$DATA/server/cred/kube-proxy.kubeconfig
}

# agent_join: the server's CA, checked against the token's hash, then a bootstrap kubeconfig
# with which the kubelet asks for its own certificate.
agent_join() {
  local want got
  CA_FILE=$DATA/agent/server-ca.crt
  KUBELET_KUBECONFIG=$DATA/agent/kubelet.kubeconfig
  # An agent's kube-proxy runs with its node's credentials (bound to system:node-proxier by the
  # server): k3s's supervisor hands every agent a system:kube-proxy certificate, which Kubernetes'
  # own TLS bootstrapping, used here, has no way to issue.
  PROXY_KUBECONFIG=$KUBELET_KUBECONFIG
  mkdir -p "$DATA/agent"
  say "joining $SERVER_URL"
  wait_until "the server's CA from $SERVER_URL (is the token right?)" fetch_server_ca
  if [[ $TOKEN == K10* ]]; then
    want=${TOKEN:3}; want=${want%%::*}
    got=$(sha256sum <"$CA_FILE.part" | cut -d' ' -f1)
    [ "$got" = "$want" ] || { say "the server's CA (sha256 $got) is not the one the token names ($want)"; exit 1; }
  fi
  mv "$CA_FILE.part" "$CA_FILE"
  cat >"$DATA/agent/bootstrap.kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters:
- name: default
  cluster: {certificate-authority-data: $(base64 -w0 "$CA_FILE"), server: "$SERVER_URL"}
contexts:
- name: default
  context: {cluster: default, user: default}
current-context: default
users:
- name: default
  user: {token: "$(bootstrap_token)"}
KC
  chmod 600 "$DATA/agent/bootstrap.kubeconfig"
  export KUBECONFIG=$KUBELET_KUBECONFIG
}

# fetch_server_ca: the CA the server publishes in kube-public, read with the bootstrap token.
fetch_server_ca() {
  kubectl --server="$SERVER_URL" --token="$(bootstrap_token)" --insecure-skip-tls-verify=true \
    -n kube-public get configmap kube-root-ca.crt -o jsonpath='{.data.ca\.crt}' >"$CA_FILE.part" && [ -s "$CA_FILE.part" ]
}
