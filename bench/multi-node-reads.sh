#!/usr/bin/env bash
# Read throughput and CPU per request with 1 and 3 server processes on one embedded PostgreSQL
# (about 2 min). Writes bench/results/multi-node-reads.md.
#   bench/multi-node-reads.sh [CONNECTIONS=12] [WINDOW_SECONDS=8] [REPS=3]
source "$(dirname "$0")/lib.sh"
bench_build
work="$(mktemp -d /tmp/tresor-multi-node-reads.XXXXXX)"
trap 'rm -rf "$work"' EXIT
bench_java MultiNodeReadBench --root "$root" --dir "$work/data" --connections "${1:-12}" --window "${2:-8}" \
  --reps "${3:-3}" --out "$root/bench/results/multi-node-reads.md"
