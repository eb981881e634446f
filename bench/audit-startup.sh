#!/usr/bin/env bash
# Start-up (opening the audit log) against the log's size: from the store's checkpoint vs the
# whole chain. Writes bench/results/audit-startup.md.
#   bench/audit-startup.sh [SIZES_MB=10,100,1000] [REPS=3] [SEGMENT_MB=0 (one file)]
# Needs free disk for the largest log (deleted after each size).
source "$(dirname "$0")/lib.sh"
sizes="${1:-10,100,1000}"
reps="${2:-3}"
segment="${3:-0}"
out="$root/bench/results/audit-startup.md"
[ "$segment" = 0 ] || out="$root/bench/results/audit-startup-segmented.md"
bench_build
work="$(mktemp -d /tmp/tresor-audit-start.XXXXXX)"
trap 'rm -rf "$work"' EXIT
bench_java AuditStartBench --sizes-mb "$sizes" --reps "$reps" --segment-mb "$segment" --dir "$work" --out "$out"
