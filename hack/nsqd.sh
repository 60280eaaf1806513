#!/usr/bin/env bash
# Builds the nsqd and nsqlookupd that the nsq source's tests run against, once
# per machine, from the module pinned in hack/tools/nsq. They go to
# ${FLINT_NSQ_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/flint/tools/nsq-v1.3.0},
# which later runs and other clones reuse. Prints that directory on stdout; the
# tests look there (or in $FLINT_NSQ_DIR) for the two binaries.
set -euo pipefail
cd "$(dirname "$0")/.."

nsq_version="$(awk '{for (i = 1; i < NF; i++) if ($i == "github.com/nsqio/nsq") {print $(i+1); exit}}' hack/tools/nsq/go.mod)"
dir="${FLINT_NSQ_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/flint/tools/nsq-${nsq_version}}"
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
    echo "hack/nsqd.sh: Go is not installed" >&2
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
# so an interrupted build never leaves a half-filled cache behind.
rm -rf "$parent/.build-nsq-${nsq_version}".*
tmp="$(mktemp -d "$parent/.build-nsq-${nsq_version}.XXXXXX")"
chmod 755 "$tmp"
trap 'rm -rf "$tmp"' EXIT

echo "hack/nsqd.sh: building nsqd and nsqlookupd ${nsq_version} into $dir (first time only)" >&2
(cd hack/tools/nsq && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$tmp/nsqd" github.com/nsqio/nsq/apps/nsqd)
(cd hack/tools/nsq && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$tmp/nsqlookupd" github.com/nsqio/nsq/apps/nsqlookupd)

printf 'nsq %s\n' "$nsq_version" >"$tmp/.complete"
rm -rf "$dir"
mv "$tmp" "$dir"
trap - EXIT
echo "$dir"
