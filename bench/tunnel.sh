#!/usr/bin/env bash
# Plain TCP vs an stunnel4 pair vs a Tresor tunnel pair (tresor tunnel client + server), loopback only:
# bulk transfer MB/s and redis-benchmark PING/SET/GET at 1 and 50 clients (p50/p99), CPU per request of
# the proxy processes, interleaved rounds. Same certificates (ECDSA P-256 workload certificates with
# SPIFFE URI SANs, made here with openssl), TLS 1.3 and TLS_AES_256_GCM_SHA384 for both proxies.
# Writes bench/results/tunnel.md. Installs redis-server, redis-tools, stunnel4 if missing.
#   bench/tunnel.sh [ROUNDS] [BULK_MIB] [REQUESTS]       (default 3 rounds, 256 MiB, 20000 requests per test)
source "$(dirname "$0")/lib.sh"
rounds="${1:-3}"
bulk="${2:-256}"
requests="${3:-20000}"

need=()
[ -x /usr/bin/redis-server ] || need+=(redis-server)
[ -x /usr/bin/redis-benchmark ] || need+=(redis-tools)
[ -x /usr/bin/stunnel4 ] || need+=(stunnel4)
if [ "${#need[@]}" -gt 0 ]; then
  echo "installing ${need[*]}…"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
bench_build
work="$(mktemp -d /tmp/tresor-tunnel-bench.XXXXXX)"
trap 'bench_cleanup; cp "$work"/*.log /tmp/ 2>/dev/null; rm -rf "$work"' EXIT

# A CA and two workload certificates (X509-SVID shape: one URI SAN, serverAuth+clientAuth).
(
  cd "$work"
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ca.key 2>/dev/null
  openssl req -x509 -new -key ca.key -subj "/CN=Tunnel Bench CA" -days 2 -out ca.pem \
    -addext "basicConstraints=critical,CA:true" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  for who in server client; do
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$who.key" 2>/dev/null
    openssl req -new -key "$who.key" -subj "/CN=$who" -out "$who.csr" 2>/dev/null
    printf 'basicConstraints=critical,CA:false\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=critical,URI:spiffe://tresor.local/ns/bench/sa/%s\n' "$who" >"$who.ext"
    openssl x509 -req -in "$who.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 -extfile "$who.ext" \
      -out "$who.crt" 2>/dev/null
    chmod 600 "$who.key"
  done
)
machine_line
bench_java TunnelBench --dir "$work" --rounds "$rounds" --bulk-mb "$bulk" --requests "$requests" \
  --tunnel-cp "$bench_cp" --out "$root/bench/results/tunnel.md"
