#!/usr/bin/env bash
# tresor agent: PUT → file propagation latency (p50/p99) with one real agent process on the change
# feed, and the idle agent's RSS with 20 secrets. Writes bench/results/agent.md.
#   bench/agent.sh [SECRETS] [SAMPLES] [DEBOUNCE]     (default 20 secrets, 200 samples, 0ms)
#   BENCH_AGENT_FLAGS="-XX:+UseSerialGC ..." BENCH_AGENT_REPORT=agent-x.md bench/agent.sh   other JVM flags
source "$(dirname "$0")/lib.sh"
bench_build
work="$(mktemp -d /tmp/tresor-agent-bench.XXXXXX)"
trap 'cp "$work"/*.log /tmp/ 2>/dev/null; rm -rf "$work"' EXIT
machine_line
bench_java AgentBench --root "$root" --work "$work" --secrets "${1:-20}" --samples "${2:-200}" --debounce "${3:-0ms}" \
  ${BENCH_AGENT_FLAGS:+--flags "$BENCH_AGENT_FLAGS"} --report "${BENCH_AGENT_REPORT:-agent.md}" --out "$root/bench/results"
