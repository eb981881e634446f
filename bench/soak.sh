#!/usr/bin/env bash
# Soak: MINUTES of mixed reads/writes/grants across many identities against `tresor server` on
# SQLite; heap after GC, open fds and RSS at intervals; then a clean stop and `tresor audit verify`.
# Writes bench/results/soak.md.
#   bench/soak.sh MINUTES          (e.g. 30; bounded to 12 h)
source "$(dirname "$0")/lib.sh"
minutes="${1:?usage: bench/soak.sh MINUTES}"
bench_build
work="$(mktemp -d /tmp/tresor-soak.XXXXXX)"
trap 'bench_cleanup; rm -rf "$work"' EXIT
read -r api mgmt <<<"$(free_ports 2)"
tresor_init "$work/tresor" "$api" "$mgmt"
tresor_start "$work/tresor" "$mgmt" "$work/tresor.log"
out="$root/bench/results/soak.md"
status=0
bench_java Soak --dir "$work/tresor" --port "$api" --pid "$tresor_pid" --minutes "$minutes" \
  --sample-every "${SOAK_SAMPLE_SECONDS:-30}" --out "$out" || status=$?
stop_pid "$tresor_pid"
echo "== audit chain verification"
verify_status=0
verify="$("$root/bin/tresor" audit verify "$work/tresor/audit.log" --key "$work/tresor/kek.json" 2>&1)" || verify_status=$?
echo "$verify"
records="$(wc -l <"$work/tresor/audit.log")"
{
  echo
  echo "Audit chain after a clean stop (\`tresor audit verify audit.log --key kek.json\`, exit $verify_status, $records lines):"
  echo
  echo '```'
  echo "$verify"
  echo '```'
  echo
  echo "Server log lines at WARN or above: $(grep -cE 'WARN|ERROR' "$work/tresor.log" || true)."
} >>"$out"
[ "$verify_status" -eq 0 ] && [ "$status" -eq 0 ]
