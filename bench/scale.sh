#!/usr/bin/env bash
# Reads, listing, start-up, memory and store size as the number of secrets grows, on SQLite and
# PostgreSQL (embedded, from the testkit). Writes bench/results/scale.{md,jsonl}.
#   bench/scale.sh [SIZES] [STORES]      default: 1000,100000,1000000 sqlite,postgresql
source "$(dirname "$0")/lib.sh"
sizes="${1:-1000,100000,1000000}"
stores="${2:-sqlite,postgresql}"
bench_build
work="$(mktemp -d /tmp/tresor-scale.XXXXXX)"
# BENCH_KEEP=1 keeps the stores (and their copies) for a later look; they are large at 1M.
trap '[ "${BENCH_KEEP:-0}" = 1 ] && echo "stores kept in $work" || rm -rf "$work"' EXIT
bench_java ScaleBench --root "$root" --work "$work" --sizes "$sizes" --stores "$stores" \
  --reps "${BENCH_REPS:-3}" --window "${BENCH_WINDOW:-10}" --jit-warmup "${BENCH_JIT_WARMUP:-60}" \
  --rounds "${BENCH_ROUNDS:-3}" --load-threads "${BENCH_LOAD_THREADS:-2}" --out "$root/bench/results"
