#!/usr/bin/env bash
# Builds the etcd and kube-apiserver that flint's tests run against (see
# pkg/kubetest), once per machine, from the module pinned in hack/kube. They go
# to ${FLINT_TESTENV_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/flint/testenv/k8s-v1.35.8},
# which later runs and other clones reuse. Prints that directory on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."

k8s_version=v1.35.8
dir="${FLINT_TESTENV_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/flint/testenv/k8s-${k8s_version}}"
stamp="$dir/.complete"

# Fast path: a complete build is there.
if [ -f "$stamp" ]; then
  echo "$dir"
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  if [ -x /usr/local/go/bin/go ]; then
    export PATH="/usr/local/go/bin:$PATH"
  else
    echo "hack/testenv.sh: Go is not installed" >&2
    exit 1
  fi
fi

parent="$(dirname "$dir")"
mkdir -p "$parent"

# One build at a time per cache directory; whoever waited finds it done.
exec 9>"$dir.lock"
if command -v flock >/dev/null 2>&1; then
  flock 9
fi
if [ -f "$stamp" ]; then
  echo "$dir"
  exit 0
fi

# Build into a temporary directory next to the cache and move it into place,
# so an interrupted build never leaves a half-filled cache behind. Holding the
# lock, remove what an interrupted build left.
rm -rf "$parent/.build-k8s-${k8s_version}".*
tmp="$(mktemp -d "$parent/.build-k8s-${k8s_version}.XXXXXX")"
chmod 755 "$tmp"

echo "hack/testenv.sh: building etcd and kube-apiserver ${k8s_version} into $dir (first time only, a few minutes)" >&2
etcd_version="$(awk '$1 == "go.etcd.io/etcd/server/v3" {print $2; exit}' hack/kube/go.mod)"
pkg=k8s.io/component-base/version
kube_ldflags="-s -w -X $pkg.gitVersion=${k8s_version} -X $pkg.gitMajor=1 -X $pkg.gitMinor=35 -X $pkg.gitTreeState=clean"

# go build runs in the background so that a signal to this script reaches it.
child=
trap 'rm -rf "$tmp"' EXIT
trap 'if [ -n "$child" ]; then kill "$child"; wait "$child"; fi 2>/dev/null; exit 130' INT TERM HUP
build() {
  (cd hack/kube && exec go build -trimpath "$@") &
  child=$!
  wait "$child"
  child=
}

start=$(date +%s)
build -ldflags "-s -w" -o "$tmp/etcd" go.etcd.io/etcd/server/v3
mid=$(date +%s)
echo "hack/testenv.sh: etcd ${etcd_version} built in $((mid - start))s" >&2
build -ldflags "$kube_ldflags" -o "$tmp/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver
end=$(date +%s)
echo "hack/testenv.sh: kube-apiserver ${k8s_version} built in $((end - mid))s" >&2

printf 'kube-apiserver %s\netcd %s\n' "$k8s_version" "$etcd_version" >"$tmp/.complete"
rm -rf "$dir"
mv "$tmp" "$dir"
trap - EXIT INT TERM HUP
echo "$dir"
