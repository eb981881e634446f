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
# --mtls presents the admin's client certificate so the HTTP checks get past the handshake;
# a second, certificate-less probe shows that the handshake is refused without one.
cat "$work/tresor/clients/admin.crt" "$work/tresor/clients/admin.key" >"$work/mtls.pem"
testssl --quiet --color 0 --warnings off --sneaky --protocols --std --server-defaults --server-preference \
  --vulnerable --headers --mtls "$work/mtls.pem" --jsonfile "$work/scan.json" "127.0.0.1:$api" >"$full" 2>&1 || true
nocert="$(echo | openssl s_client -connect "127.0.0.1:$api" -tls1_3 2>&1 | grep -E 'alert|Verify return|error' | head -n 3 || true)"
nocert_http="$( (printf 'GET /v1/whoami HTTP/1.1\r\nHost: x\r\n\r\n'; sleep 1) | openssl s_client -quiet -connect "127.0.0.1:$api" 2>&1 | head -n 3 || true)"
bench_java TlsScanSummary "$work/scan.json" "$root/docs/tls-scan.md" "$(testssl --version 2>/dev/null | grep -m1 -o 'testssl *[0-9.]*' || echo testssl)" \
  "$nocert" "$nocert_http" "$(machine_line)"
echo "full output: $full; summary: $root/docs/tls-scan.md"
