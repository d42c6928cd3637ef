#!/usr/bin/env bash
# Installs the Debian packages the tests use, only when missing:
# - PostgreSQL 15, and patroni, whose patronictl is the client our compatibility is judged by;
# - the real node (test/node/): containerd and runc, the CNI plugins (bridge, host-local, loopback, portmap),
#   iptables and conntrack for kube-proxy, iproute2 and util-linux (network and mount namespaces, nsenter);
# - the agent image (agent/image/build.sh): debootstrap, buildah, podman, skopeo;
# - openssl for test certificates.
# Idempotent; needs root (as CI and developer machines here are) or an already-provisioned machine.
set -euo pipefail
packages=(postgresql-15 patroni openssl util-linux iproute2 containerd runc containernetworking-plugins iptables conntrack debootstrap buildah podman skopeo)
needed=()
have() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
for pkg in "${packages[@]}"; do
  have "$pkg" || needed+=("$pkg")
done
if [ ${#needed[@]} -eq 0 ]; then
  echo "prerequisites: all present"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "prerequisites: missing Debian packages: ${needed[*]}; install them with: sudo apt-get install ${needed[*]}" >&2
  exit 1
fi
echo "prerequisites: installing ${needed[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${needed[@]}" >/dev/null
