#!/usr/bin/env bash
# Builds the real control-plane binaries the tests run, from Go modules, only when they are missing from the
# version-keyed cache. Prints the directory that holds the binaries on its last line.
#
#   build.sh            build everything missing (kube-apiserver, kube-controller-manager, kube-scheduler,
#                       kube-proxy, kubelet, kubectl, etcd, helm, the template processor)
#   build.sh --print    print the cache directory without building
#
# The cache lives outside the repository (PGHA_CACHE_DIR, default ~/.cache/pgha) because the binaries are
# several hundred MB. Each part is keyed by its version and by the hash of its wrapper's go.sum, so a version bump
# rebuilds only that part.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
. "$here/versions.env"
cache_root=${PGHA_CACHE_DIR:-$HOME/.cache/pgha}

key_of() { # part version wrapper-dir
  local sum
  sum=$(cat "$3/go.mod" "$3/go.sum" | sha256sum | cut -c1-12)
  echo "$cache_root/$1-$2-$sum"
}
k8s_dir=$(key_of k8s "$K8S_VERSION" "$here/k8s-bin")
etcd_dir=$(key_of etcd "$ETCD_VERSION" "$here/etcd-bin")
# Deployment-toolkit checkers: real `helm` (lint, template) and OpenShift's template processor (library-go).
helm_version=$(awk '$1 == "helm.sh/helm/v3" { print $2 }' "$here/helm-bin/go.mod")
helm_dir=$(key_of helm "$helm_version" "$here/helm-bin")
template_version=$(awk '$1 == "github.com/openshift/library-go" { print $2 }' "$here/template-bin/go.mod")
template_dir=$(key_of template-process "${template_version##*-}" "$here/template-bin")
# The real node's sandbox ("pause") image: a static binary of ours, packed as an OCI archive for containerd.
pause_src="$here/../node/pause"
pause_dir=$(key_of pause "$(cat "$pause_src/main.go" "$pause_src/make-oci-archive.sh" | sha256sum | cut -c1-8)" "$pause_src")

crd_dir="$cache_root/prometheus-operator-crds-$PROMETHEUS_OPERATOR_VERSION"
podmonitor_crd="$crd_dir/monitoring.coreos.com_podmonitors.yaml"

if [ "${1:-}" = "--print" ]; then
  echo "K8S_BIN_DIR=$k8s_dir/bin"
  echo "ETCD_BIN_DIR=$etcd_dir/bin"
  echo "HELM_BIN_DIR=$helm_dir/bin"
  echo "TEMPLATE_BIN_DIR=$template_dir/bin"
  echo "PAUSE_ARCHIVE=$pause_dir/pause.oci.tar"
  echo "PODMONITOR_CRD=$podmonitor_crd"
  exit 0
fi

fail() { echo "control-plane build: $1" >&2; exit 1; }
# PGHA_GO names the toolchain explicitly; otherwise `go` on PATH, or the usual install location.
go_bin=${PGHA_GO:-go}
if [ -z "${PGHA_GO:-}" ] && ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then go_bin=/usr/local/go/bin/go; fi
needs_build() {
  local d
  for d in "$k8s_dir" "$etcd_dir" "$helm_dir" "$template_dir" "$pause_dir" "$crd_dir"; do [ -f "$d/.complete" ] || return 0; done
  return 1
}
if needs_build && ! command -v "$go_bin" >/dev/null 2>&1; then
  fail "the Go toolchain ($go_bin) was not found; install Go 1.24 or newer, or set PGHA_GO to its path"
fi

build_part() { # name dir wrapper-dir -- go build args...
  local name=$1 dir=$2 wrapper=$3; shift 4
  if [ -f "$dir/.complete" ]; then return 0; fi
  mkdir -p "$dir"
  local log="$dir/build.log"
  echo "control-plane build: building $name into $dir (log: $log)" >&2
  local started=$SECONDS
  # One build at a time per part, so parallel test runs do not race on the same output.
  exec 9>"$dir/.lock"
  flock 9
  if [ -f "$dir/.complete" ]; then flock -u 9; return 0; fi
  if ! (cd "$wrapper" && CGO_ENABLED=0 GOFLAGS="-trimpath -mod=readonly" "$go_bin" build "$@") >"$log" 2>&1; then
    tail -n 20 "$log" >&2
    fail "building $name failed; read $log"
  fi
  echo "$((SECONDS - started))" > "$dir/.build-seconds"
  touch "$dir/.complete"
  flock -u 9
  echo "control-plane build: $name built in $((SECONDS - started)) s" >&2
}

minor=${K8S_VERSION#v1.}; minor=${minor%%.*}
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags="$ldflags -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
done

build_part etcd "$etcd_dir" "$here/etcd-bin" -- -ldflags "-s -w" -o "$etcd_dir/bin/etcd" .
# Control plane and node in one `go build`: the binaries share most of their packages, so one build compiles each once.
build_part kubernetes "$k8s_dir" "$here/k8s-bin" -- -ldflags "$ldflags" -o "$k8s_dir/bin/" \
  k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
  k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kube-proxy k8s.io/kubernetes/cmd/kubelet \
  k8s.io/kubernetes/cmd/kubectl

build_part template-process "$template_dir" "$here/template-bin" -- -ldflags "-s -w" -o "$template_dir/bin/template-process" .
build_part helm "$helm_dir" "$here/helm-bin" -- -ldflags "-s -w" -o "$helm_dir/bin/helm" helm.sh/helm/v3/cmd/helm
build_part pause "$pause_dir" "$pause_src" -- -ldflags "-s -w" -o "$pause_dir/bin/pause" .
if [ ! -f "$pause_dir/pause.oci.tar" ]; then
  bash "$pause_src/make-oci-archive.sh" "$pause_dir/bin/pause" localhost/pgha-pause:1 "$pause_dir/pause.oci.tar"
fi

# The PodMonitor CRD as the Prometheus Operator release ships it (its module holds the generated CRDs).
if [ ! -f "$crd_dir/.complete" ]; then
  mkdir -p "$crd_dir"
  echo "control-plane build: fetching the Prometheus Operator CRDs $PROMETHEUS_OPERATOR_VERSION into $crd_dir" >&2
  module_dir=$(cd "$crd_dir" && GOFLAGS=-mod=mod "$go_bin" mod download -json "github.com/prometheus-operator/prometheus-operator@$PROMETHEUS_OPERATOR_VERSION" |
    awk -F'"' '$2 == "Dir" { print $4 }') || fail "downloading github.com/prometheus-operator/prometheus-operator@$PROMETHEUS_OPERATOR_VERSION failed"
  [ -f "$module_dir/example/prometheus-operator-crd/monitoring.coreos.com_podmonitors.yaml" ] || fail "the PodMonitor CRD is missing from $module_dir"
  cp "$module_dir/example/prometheus-operator-crd/monitoring.coreos.com_podmonitors.yaml" "$podmonitor_crd"
  touch "$crd_dir/.complete"
fi

echo "K8S_BIN_DIR=$k8s_dir/bin"
echo "ETCD_BIN_DIR=$etcd_dir/bin"
echo "HELM_BIN_DIR=$helm_dir/bin"
echo "TEMPLATE_BIN_DIR=$template_dir/bin"
echo "PAUSE_ARCHIVE=$pause_dir/pause.oci.tar"
echo "PODMONITOR_CRD=$podmonitor_crd"
