#!/usr/bin/env bash
# Start-up (opening the audit log) against the log's size: from the store's checkpoint vs the
# whole chain. Writes bench/results/audit-startup.md.
#   bench/audit-startup.sh [SIZES_MB=10,100,1000] [REPS=3]
# Needs free disk for the largest log (deleted after each size).
source "$(dirname "$0")/lib.sh"
sizes="${1:-10,100,1000}"
reps="${2:-3}"
bench_build
work="$(mktemp -d /tmp/tresor-audit-start.XXXXXX)"
trap 'rm -rf "$work"' EXIT
bench_java AuditStartBench --sizes-mb "$sizes" --reps "$reps" --dir "$work" --out "$root/bench/results/audit-startup.md"
