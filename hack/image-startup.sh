#!/usr/bin/env bash
# Measures what decides how fast a scale-from-zero source pod answers: the
# webhook source image's binary size, exec → port accepting, and idle RSS.
# Usage: bash hack/image-startup.sh [runs]   (default 5 runs)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
runs="${1:-5}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Built as .ko.yaml builds images: static, trimmed, stripped.
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$work/webhook" ./sources/cmd/webhook
echo "webhook image binary: $(( $(stat -c %s "$work/webhook") / 1024 / 1024 )) MiB"

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
cat > "$work/es.yaml" <<YAML
apiVersion: argoproj.io/v1alpha1
kind: EventSource
metadata:
  name: webhook
spec:
  webhook:
    example:
      port: "$port"
      endpoint: /example
      method: POST
YAML

for i in $(seq "$runs"); do
  start="$(date +%s%N)"
  EVENTSOURCE_FILE="$work/es.yaml" K_SINK="http://127.0.0.1:9/default/default" LOG_LEVEL=error \
    "$work/webhook" >/dev/null 2>&1 &
  pid=$!
  until curl -sf -o /dev/null "http://127.0.0.1:$port/health"; do sleep 0.001; done
  ready="$(date +%s%N)"
  sleep 1
  rss="$(awk '/VmRSS/{print $2}' "/proc/$pid/status")"
  kill -TERM "$pid"; wait "$pid" || true
  echo "run $i: exec → ready $(( (ready - start) / 1000000 )) ms, idle RSS $(( rss / 1024 )) MiB"
done
