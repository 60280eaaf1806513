#!/usr/bin/env bash
# The ratio benchmark: builds flint, the one-hop relay and the load generator,
# then drives `flint dev`, the relay and the relay storing each event in JetStream
# first (relay -durable) with the same load in the same run and prints delivered
# events/s, CPU per event, e2e p50/p99 at paced rates, start → first event
# delivered and the exit time on SIGTERM, with flint's ratios to both relays.
# Arguments go to the load generator (e.g. -rounds 5, -durable=false,
# -flint-args --via-http).
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
out=${BENCH_BIN:-bin/bench}
mkdir -p "$out"
# Static binaries, as `make build` and the images build them; both systems alike.
export CGO_ENABLED=${CGO_ENABLED:-0}
$GO build -o "$out/flint" .
$GO build -o "$out/relay" ./test/bench/relay
$GO build -o "$out/loadgen" ./test/bench/loadgen
exec "$out/loadgen" -flint "$out/flint" -relay "$out/relay" "$@"
