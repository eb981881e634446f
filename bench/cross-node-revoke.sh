#!/usr/bin/env bash
# Revoke on one node -> refusal on another, on one embedded PostgreSQL. Writes bench/results/cross-node-revoke.md.
#   bench/cross-node-revoke.sh [SAMPLES=200]
source "$(dirname "$0")/lib.sh"
samples="${1:-200}"
bench_build
work="$(mktemp -d /tmp/tresor-cross-node.XXXXXX)"
trap 'rm -rf "$work"' EXIT
bench_java CrossNodeRevokeBench --samples "$samples" --dir "$work" --out "$root/bench/results/cross-node-revoke.md"
