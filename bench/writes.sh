#!/usr/bin/env bash
# PUT throughput and latency on SQLite and PostgreSQL (embedded), shipped durability settings.
# Writes bench/results/writes.{md,jsonl}.
#   bench/writes.sh [CONNECTIONS] [STORES]     default: 1,8,32 sqlite,postgresql
source "$(dirname "$0")/lib.sh"
bench_build
work="$(mktemp -d /tmp/tresor-writes.XXXXXX)"
trap 'rm -rf "$work"' EXIT
bench_java WriteBench --root "$root" --work "$work" --connections "${1:-1,8,32}" --stores "${2:-sqlite,postgresql}" \
  --reps "${BENCH_REPS:-3}" --window "${BENCH_WINDOW:-10}" --out "$root/bench/results"
