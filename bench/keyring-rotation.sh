#!/usr/bin/env bash
# Keyring rotation: re-wrap rate and writer latency during it. Writes bench/results/keyring-rotation.md.
#   bench/keyring-rotation.sh [SECRETS=5000] [BATCHES=50,200] [PAUSES_MS=0,20]
source "$(dirname "$0")/lib.sh"
secrets="${1:-5000}"
batches="${2:-50,200}"
pauses="${3:-0,20}"
bench_build
work="$(mktemp -d /tmp/tresor-keyring-rotation.XXXXXX)"
trap 'rm -rf "$work"' EXIT
bench_java KeyringRotationBench --secrets "$secrets" --batches "$batches" --pauses-ms "$pauses" --dir "$work" \
  --out "$root/bench/results/keyring-rotation.md"
