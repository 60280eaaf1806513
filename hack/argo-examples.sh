#!/usr/bin/env bash
# Prints the examples/ directory of Argo Events v1.9.11 (commit d13fde07),
# which test/conformance loads and compiles unchanged (FLINT_ARGO_EXAMPLES).
# The Go module proxy serves the release's module zip, examples included, so
# this needs nothing but the go command; once downloaded it is a no-op.
set -euo pipefail
cd "$(dirname "$0")/.."
version=v1.9.11
dir=$(cd "${TMPDIR:-/tmp}" && GOFLAGS=-mod=mod go mod download -json "github.com/argoproj/argo-events@$version" |
  sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
if [ -z "$dir" ] || [ ! -d "$dir/examples/event-sources" ]; then
  echo "hack/argo-examples.sh: the module proxy did not give argo-events $version with its examples" >&2
  exit 1
fi
echo "$dir/examples"
