#!/usr/bin/env bash
# Secret reads with the audit file sink only vs file + a best-effort syslog copy over TLS to a
# real rsyslogd (Debian rsyslog + rsyslog-gnutls). Writes bench/results/audit-copy.{md,jsonl}.
#   bench/audit-copy.sh [ROUNDS=3] [CONNECTIONS=8]    BENCH_WINDOW (s, default 10)
#   BENCH_PROFILE_DIR=D: afterwards one more round per variant under a JFR CPU profile, D/audit-copy-*.jfr
source "$(dirname "$0")/lib.sh"
bench_build
work="$(mktemp -d /tmp/tresor-audit-copy.XXXXXX)"
trap 'rm -rf "$work"' EXIT
bench_java AuditCopyBench --root "$root" --work "$work" --rounds "${1:-3}" --connections "${2:-8}" \
  --window "${BENCH_WINDOW:-10}" --out "$root/bench/results" ${BENCH_PROFILE_DIR:+--profile-dir "$BENCH_PROFILE_DIR"}
