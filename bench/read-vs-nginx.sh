#!/usr/bin/env bash
# Secret reads (Tresor on SQLite) against a 64-byte static file (nginx), both over mutual TLS with
# keep-alive on loopback, same certificates, TLS version and cipher. Installs nginx if missing.
# Also measures the transport floor: Jetty set up like the API connector, answering a fixed
# 64-byte body (bench/.../JettyFloor). Writes bench/results/read-vs-nginx.{md,png,jsonl}.
#   bench/read-vs-nginx.sh [REPS] [WINDOW_SECONDS]      (default 5 repetitions of 10 s windows)
source "$(dirname "$0")/lib.sh"
reps="${1:-5}"
window="${2:-10}"

if ! command -v nginx >/dev/null 2>&1; then
  echo "installing nginx…"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null || {
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null; }
fi
bench_build
work="$(mktemp -d /tmp/tresor-read-bench.XXXXXX)"
trap 'bench_cleanup; [ -n "${nginx_pid:-}" ] && stop_pid "$nginx_pid"; cp "$work/tresor.log" /tmp/tresor-read-bench-server.log 2>/dev/null; rm -rf "$work"' EXIT
read -r api mgmt nginx_port floor_port <<<"$(free_ports 4)"

echo "== Tresor server (SQLite) in $work/tresor"
tresor_init "$work/tresor" "$api" "$mgmt"
tresor_start "$work/tresor" "$mgmt" "$work/tresor.log"
bench_java Populate --dir "$work/tresor" --port "$api" --out "$work/reader" --count 100 --value-bytes 64

echo "== nginx on 127.0.0.1:$nginx_port"
mkdir -p "$work/nginx/www" "$work/nginx/tmp"
head -c 64 /dev/urandom | base64 -w0 | head -c 64 >"$work/nginx/www/secret.bin"
cat >"$work/nginx/nginx.conf" <<CONF
user root;
worker_processes auto;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $work/nginx/tmp;
  proxy_temp_path $work/nginx/tmp;
  fastcgi_temp_path $work/nginx/tmp;
  uwsgi_temp_path $work/nginx/tmp;
  scgi_temp_path $work/nginx/tmp;
  keepalive_requests 100000000;
  keepalive_timeout 300s;
  server {
    listen 127.0.0.1:$nginx_port ssl;
    ssl_certificate $work/tresor/server.crt;
    ssl_certificate_key $work/tresor/server.key;
    ssl_client_certificate $work/tresor/ca.crt;
    ssl_verify_client on;
    ssl_protocols TLSv1.3 TLSv1.2;
    location / {
      root $work/nginx/www;
      default_type application/octet-stream;
    }
  }
}
CONF
nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" -e "$work/nginx/error.log"
for _ in $(seq 1 50); do [ -s "$work/nginx/nginx.pid" ] && break; sleep 0.1; done
nginx_pid="$(cat "$work/nginx/nginx.pid")"
sleep 0.3
nginx_pids="$nginx_pid $(pgrep -P "$nginx_pid" | tr '\n' ' ')"
echo "nginx pids: $nginx_pids; tresor pid: $tresor_pid"

echo "== Jetty transport floor on 127.0.0.1:$floor_port"
"$java" --enable-native-access=ALL-UNNAMED -cp "$bench_cp" dev.tresor.bench.JettyFloor --port "$floor_port" --cert "$work/tresor/server.crt" --key "$work/tresor/server.key" \
  --ca "$work/tresor/ca.crt" >"$work/floor.log" 2>&1 &
floor_pid=$!
started_pids+=("$floor_pid")
for _ in $(seq 1 100); do grep -q listening "$work/floor.log" && break; sleep 0.1; done

notes="Versions: $(nginx -v 2>&1), $("$java" -version 2>&1 | head -n1); Tresor JVM flags as \`bin/tresor server\` (default GC, tiered JIT). Machine: $(machine_line)"
bench_java ReadVsNginx --tresor-port "$api" --tresor-pid "$tresor_pid" --nginx-port "$nginx_port" --nginx-pids "$nginx_pids" \
  --floor-port "$floor_port" --floor-pids "$floor_pid" \
  --cert "$work/reader/reader.crt" --key "$work/reader/reader.key" --ca "$work/tresor/ca.crt" \
  --reps "$reps" --window "$window" --jit-max "${BENCH_JIT_MAX:-420}" --jit-chunk "${BENCH_JIT_CHUNK:-10}" --out "$root/bench/results" --notes "$notes"
