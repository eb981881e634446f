#!/usr/bin/env bash
# Change-feed propagation: PUT of a new version -> every watcher's GET /v1/watch answer names it,
# p50/p99 with 1, 100 and 1,000 watchers against a real tresor server process. Writes
# bench/results/feed-propagation.md.
#   bench/feed-propagation.sh [WRITES=30] [WATCHERS=1,100,1000]
source "$(dirname "$0")/lib.sh"
bench_build
work="$(mktemp -d /tmp/tresor-feed.XXXXXX)"
trap 'rm -rf "$work"' EXIT
bench_java FeedPropagationBench --root "$root" --work "$work" --writes "${1:-30}" --watchers "${2:-1,100,1000}" \
  --out "$root/bench/results"
