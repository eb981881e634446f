#!/usr/bin/env bash
# Secret reads and start-up time with each key provider (local, local sealed by a passphrase,
# pkcs11 on SoftHSM2, awskms on the testkit's local KMS) against local, in one interleaved run.
# Writes bench/results/providers.{md,jsonl}.
#   bench/providers.sh [ROUNDS=3] [STARTUPS=5] [CONNECTIONS=8]    BENCH_WINDOW (s, default 10)
source "$(dirname "$0")/lib.sh"
command -v softhsm2-util >/dev/null || apt-get install -y softhsm2 >/dev/null
bench_build
bench_server_aot
work="$(mktemp -d /tmp/tresor-providers.XXXXXX)"
trap 'rm -rf "$work"' EXIT
# SoftHSM2 reads this once per process: the bench JVM initialises the token there, the servers inherit it.
export SOFTHSM2_CONF="$work/softhsm/softhsm2.conf"
mkdir -p "$work/softhsm"
echo "machine at start: $(machine_line)"
bench_java ProviderBench --root "$root" --work "$work" --rounds "${1:-3}" --startups "${2:-5}" --connections "${3:-8}" \
  --window "${BENCH_WINDOW:-10}" --jit-warmup "${BENCH_JIT_WARMUP:-30}" --out "$root/bench/results"
echo "machine at end: $(machine_line)"
