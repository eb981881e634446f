#!/usr/bin/env bash
# Secret write throughput with 1 and 3 nodes on one embedded PostgreSQL. Writes bench/results/multi-node-writes.md.
#   bench/multi-node-writes.sh [NODES=1,3] [WRITERS=3,12] [SECONDS=8]
source "$(dirname "$0")/lib.sh"
bench_build
work="$(mktemp -d /tmp/tresor-multi-node-writes.XXXXXX)"
trap 'rm -rf "$work"' EXIT
bench_java MultiNodeWriteBench --nodes "${1:-1,3}" --writers "${2:-3,12}" --seconds "${3:-8}" --dir "$work" \
  --out "$root/bench/results/multi-node-writes.md"
