#!/usr/bin/env bash
# GET /v1/audit over a large segmented log: newest page, a recent window, an older page by
# cursor, and a filter that matches almost nothing. Writes bench/results/audit-query.md.
#   bench/audit-query.sh [SIZE_MB=1024] [SEGMENT_MB=256] [REPS=5]
# Needs SIZE_MB of free disk (deleted afterwards).
source "$(dirname "$0")/lib.sh"
size="${1:-1024}"
segment="${2:-256}"
reps="${3:-5}"
bench_build
work="$(mktemp -d /tmp/tresor-audit-query.XXXXXX)"
trap 'rm -rf "$work"' EXIT
bench_java AuditQueryBench --size-mb "$size" --segment-mb "$segment" --reps "$reps" --dir "$work" \
  --out "$root/bench/results/audit-query.md"
