#!/usr/bin/env bash
# Failover time a client sees when the node it reads from is SIGKILLed, 3 server processes on one
# embedded PostgreSQL (about 90 s for 6 kills). Writes bench/results/failover-time.md.
#   bench/failover-time.sh [KILLS=6]
source "$(dirname "$0")/lib.sh"
bench_build
work="$(mktemp -d /tmp/tresor-failover-time.XXXXXX)"
trap 'rm -rf "$work"' EXIT
bench_java FailoverTimeBench --root "$root" --dir "$work/data" --kills "${1:-6}" --out "$root/bench/results/failover-time.md"
