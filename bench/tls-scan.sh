#!/usr/bin/env bash
# TLS scan of the API port with Debian's testssl.sh (installed if missing): protocols, cipher
# suites, known vulnerabilities, and whether a client certificate is required. Keeps the full
# output under bench/results/ and a summary in docs/tls-scan.md.
#   bench/tls-scan.sh
source "$(dirname "$0")/lib.sh"
if ! command -v testssl >/dev/null 2>&1; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq testssl.sh >/dev/null || {
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq testssl.sh >/dev/null; }
fi
bench_build
work="$(mktemp -d /tmp/tresor-tls.XXXXXX)"
trap 'bench_cleanup; rm -rf "$work"' EXIT
read -r api mgmt <<<"$(free_ports 2)"
tresor_init "$work/tresor" "$api" "$mgmt"
tresor_start "$work/tresor" "$mgmt" "$work/tresor.log"
full="$root/bench/results/tls-scan.txt"
# Debian 12's testssl.sh 3.0.8 cannot present a client certificate (no --mtls): protocol, cipher
# and vulnerability checks work on the handshake up to the server's certificate request; the
# HTTP-level checks (headers) cannot run, and a probe below shows the refusal without a certificate.
testssl --quiet --color 0 --warnings off --sneaky --protocols --std --server-defaults --server-preference \
  --cipher-per-proto --vulnerable --jsonfile "$work/scan.json" "127.0.0.1:$api" >"$full" 2>&1 || true
# Without a client certificate: the handshake must fail and no HTTP answer may come back.
nocert="$( (printf 'GET /v1/whoami HTTP/1.1\r\nHost: x\r\n\r\n'; sleep 2) | openssl s_client -connect "127.0.0.1:$api" \
  -CAfile "$work/tresor/ca.crt" -tls1_3 -quiet 2>&1 | grep -iE 'alert|error|HTTP/' | head -n 3 || true)"
nocert12="$( (printf 'GET /v1/whoami HTTP/1.1\r\nHost: x\r\n\r\n'; sleep 2) | openssl s_client -connect "127.0.0.1:$api" \
  -CAfile "$work/tresor/ca.crt" -tls1_2 -quiet 2>&1 | grep -iE 'alert|error|HTTP/' | head -n 3 || true)"
version="testssl.sh $(dpkg-query -W -f '${Version}' testssl.sh 2>/dev/null || echo '?')"
bench_java TlsScanSummary "$work/scan.json" "$root/docs/tls-scan.md" "$version" "TLS 1.3: $nocert" "TLS 1.2: $nocert12" "$(machine_line)"
echo "full output: $full; summary: $root/docs/tls-scan.md"
