#!/usr/bin/env bash
# tresor key rotate --keyring on a real server at 100k and 1M versions, with reads (and a light
# writer) before, during and after it. Writes bench/results/keyring-rotation-scale.{md,jsonl}.
#   bench/keyring-rotation-scale.sh [SIZES=100000,1000000] [MAX_LOAD_MINUTES=20]
# A size whose bulk load would take longer than MAX_LOAD_MINUTES at the rate measured at the
# size before is skipped and reported as not run. BENCH_KEEP=1 keeps the store.
source "$(dirname "$0")/lib.sh"
bench_build
bench_server_aot
work="$(mktemp -d /tmp/tresor-rotation-scale.XXXXXX)"
trap '[ "${BENCH_KEEP:-0}" = 1 ] && echo "store kept in $work" || rm -rf "$work"' EXIT
echo "machine at start: $(machine_line)"
bench_java RotationScaleBench --root "$root" --work "$work" --sizes "${1:-100000,1000000}" \
  --max-load-minutes "${2:-20}" --window "${BENCH_WINDOW:-5}" --jit-warmup "${BENCH_JIT_WARMUP:-30}" \
  --connections "${BENCH_CONNECTIONS:-8}" --load-threads "${BENCH_LOAD_THREADS:-2}" --out "$root/bench/results"
echo "machine at end: $(machine_line)"
