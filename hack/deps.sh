#!/usr/bin/env bash
# Installs what building and testing flint needs on a fresh machine: the Go
# toolchain named in go.mod must be present; modules come from the module proxy.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v go >/dev/null 2>&1; then
  if [ -x /usr/local/go/bin/go ]; then
    export PATH="/usr/local/go/bin:$PATH"
  else
    echo "hack/deps.sh: Go is not installed; install Go $(awk '/^go /{print $2}' go.mod) or newer" >&2
    exit 1
  fi
fi

stamp=".cache/deps.stamp"
if [ ! -f "$stamp" ] || [ go.sum -nt "$stamp" ]; then
  go mod download
  mkdir -p .cache && touch "$stamp"
fi
