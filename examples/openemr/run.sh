#!/usr/bin/env bash
# examples/openemr/run.sh: OpenEMR end to end on one machine, in one bounded command.
#
# A Tresor dev server; identities for openemr, mariadb and redis issued through join tokens;
# MariaDB and Redis on loopback, each behind a `tresor tunnel` server that admits only the openemr
# identity; an OpenEMR-like PHP app reaching them through `tresor tunnel` client ports, with its
# sqlconf.php and Redis password rendered by `tresor agent` into a memory-backed folder. Under a
# steady HTTP load it then rotates the MariaDB credentials (dual slot), renews every tunnel
# certificate, rotates the Redis password, and lets an intruder try MariaDB directly and through
# the tunnel. The report (table on stdout, JSON with --report) says whether every goal was met;
# the exit code is non-zero if one was not. See examples/openemr/README.md.
#
#   examples/openemr/run.sh [--duration SECONDS] [--rate PER_SECOND] [--report FILE] [--keep]
#
#   --duration SECONDS  how long the load runs, the events happen inside it (default 45; 10-3600)
#   --rate N            requests per second of the load (default 10)
#   --report FILE       also write the report as JSON to FILE
#   --keep              keep the temporary folders (every process's log) to look at afterwards
#
# Everything runs on 127.0.0.1 with free ports, in a temporary folder (and one under /dev/shm for
# the rendered secrets); both are removed at the end, and only the processes started here are
# stopped, by PID.
#
# PHP snippets are single-quoted on purpose: their $variables are PHP's, not the shell's.
# shellcheck disable=SC2016
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
tresor="$root/bin/tresor"

duration=45
rate=10
report_file=""
keep=0

usage() {
  sed -n '2,/^# stopped, by PID/p' "${BASH_SOURCE[0]}" | sed -e 's/^# \{0,1\}//'
  exit "${1:-0}"
}

while [ "$#" -gt 0 ]; do
  case "$1" in
    --duration) duration="${2:?--duration needs SECONDS}"; shift 2 ;;
    --rate) rate="${2:?--rate needs PER_SECOND}"; shift 2 ;;
    --report) report_file="${2:?--report needs FILE}"; shift 2 ;;
    --keep) keep=1; shift ;;
    -h | --help) usage 0 ;;
    *) echo "run.sh: unknown argument '$1'" >&2; usage 2 ;;
  esac
done
if ! [[ "$duration" =~ ^[0-9]+$ ]] || [ "$duration" -lt 10 ] || [ "$duration" -gt 3600 ]; then
  echo "run.sh: --duration must be a whole number of seconds, 10-3600" >&2
  exit 2
fi
if ! [[ "$rate" =~ ^[0-9]+$ ]] || [ "$rate" -lt 1 ] || [ "$rate" -gt 200 ]; then
  echo "run.sh: --rate must be a whole number of requests per second, 1-200" >&2
  exit 2
fi
if [ -n "$report_file" ]; then
  report_file="$(cd "$(dirname "$report_file")" && pwd)/$(basename "$report_file")"
fi

started_at=$(date +%s)
say() { printf '[%3ds] %s\n' "$(($(date +%s) - started_at))" "$*"; }
die() { echo "run.sh: $*" >&2; exit 1; }

# ---------------------------------------------------------------------------------------------
# Debian packages: installed only when missing (as root; otherwise the command to run is printed).
need=()
{ [ -x /usr/sbin/mariadbd ] && [ -x /usr/bin/mariadb-install-db ]; } || need+=(mariadb-server)
command -v mariadb >/dev/null 2>&1 || need+=(mariadb-client)
[ -x /usr/bin/redis-server ] || need+=(redis-server)
command -v redis-cli >/dev/null 2>&1 || need+=(redis-tools)
if command -v php >/dev/null 2>&1; then
  php_modules="$(php -m)"
  grep -qx pdo_mysql <<<"$php_modules" || need+=(php-mysql)
  grep -qx redis <<<"$php_modules" || need+=(php-redis)
else
  need+=(php-cli php-mysql php-redis)
fi
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v ss >/dev/null 2>&1 || need+=(iproute2)
if [ "${#need[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    die "missing Debian packages; install them first: sudo apt-get install -y --no-install-recommends ${need[*]}"
  fi
  say "installing missing packages: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# ---------------------------------------------------------------------------------------------
# Temporary folders and the processes started here; the trap stops exactly those, by PID.
work="$(mktemp -d "${TMPDIR:-/tmp}/tresor-openemr.XXXXXX")"
shm="$(mktemp -d /dev/shm/tresor-openemr.XXXXXX)"
facts="$work/facts"
logs="$work/logs"
mkdir -p "$facts" "$logs"
declare -A pid_of=() group_of=()

stop_pid() { # NAME: SIGTERM, up to 25 s to exit (the tunnels drain), then SIGKILL
  local name="$1" pid="${pid_of[$1]:-}" target i
  [ -n "$pid" ] || return 0
  unset "pid_of[$name]"
  target="$pid"
  [ -n "${group_of[$name]:-}" ] && target="-$pid"
  kill -TERM -- "$target" 2>/dev/null || return 0
  for ((i = 0; i < 250; i++)); do
    kill -0 -- "$target" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    sleep 0.1
  done
  kill -KILL -- "$target" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local status=$? name log
  trap - EXIT INT TERM
  if [ "$status" -ne 0 ] && [ "$keep" != 1 ]; then
    # The logs go with the folder: show their ends first, so a failed run (in CI) says why.
    for log in "$logs"/*.log; do
      [ -s "$log" ] || continue
      echo "--- last lines of $(basename "$log")" >&2
      tail -n 8 "$log" >&2
    done
  fi
  for name in loadgen-1 loadgen-2 intruder-tunnel app agent app-tunnels db-tunnels redis mariadb tresor; do
    stop_pid "$name"
  done
  for name in "${!pid_of[@]}"; do stop_pid "$name"; done
  if [ "$keep" = 1 ]; then
    echo "run.sh: kept $work and $shm (--keep)" >&2
  else
    rm -rf "$work" "$shm"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

start() { # NAME COMMAND...: in the background, output to logs/NAME.log
  local name="$1"
  shift
  "$@" >"$logs/$name.log" 2>&1 &
  pid_of[$name]=$!
}

# php -S with PHP_CLI_SERVER_WORKERS forks its workers, which outlive a killed parent: it runs in
# a process group of its own (setsid; the script has no job control, so setsid does not fork and
# the PID is the group's id), and stop_pid signals that group.
start_group() { # NAME COMMAND...
  local name="$1"
  shift
  setsid "$@" >"$logs/$name.log" 2>&1 &
  pid_of[$name]=$!
  group_of[$name]=1
}

wait_for() { # SECONDS WHAT COMMAND...: until COMMAND succeeds
  local seconds="$1" what="$2" deadline
  shift 2
  deadline=$(($(date +%s) + seconds))
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$deadline" ] || die "$what did not happen within ${seconds}s (logs in $logs; rerun with --keep)"
    sleep 0.2
  done
}

# Free loopback ports, held open together while they are picked so they differ from each other.
# They come from below the kernel's ephemeral range: a port from that range can be taken, between
# picking it here and a server binding it a minute later, as the local port of any outgoing
# connection on the machine (and this run makes hundreds).
ephemeral_low="$(awk '{print $1}' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)"
mapfile -t ports < <(php -r '$low = 10000; $high = max($low + 1000, (int) $argv[1]) - 1; $held = [];
  while (count($held) < 12) { $port = random_int($low, $high);
    $s = @stream_socket_server("tcp://127.0.0.1:$port"); if ($s !== false && !isset($held[$port])) { $held[$port] = $s; } }
  echo implode("\n", array_keys($held)), "\n";' "$ephemeral_low")
[ "${#ports[@]}" -eq 12 ] || die "could not find 12 free loopback ports"
p_api=${ports[0]} p_mgmt=${ports[1]} p_join=${ports[2]} p_mariadb=${ports[3]} p_redis=${ports[4]}
p_ts_mariadb=${ports[5]} p_ts_redis=${ports[6]} p_tc_mariadb=${ports[7]} p_tc_redis=${ports[8]}
p_app=${ports[9]} p_db_mgmt=${ports[10]} p_intruder=${ports[11]}

random_password() { openssl rand -hex 16; }
serial_of() { openssl x509 -noout -serial -in "$1" | sed 's/^serial=//' | tr 'A-F' 'a-f' | sed 's/^0*//'; }

td=cluster.local    # the topology's trust domain: identities are the mesh principals
id_of() { echo "spiffe://$td/ns/openemr/sa/$1"; }

# ---------------------------------------------------------------------------------------------
say "1. Tresor dev server in $work/tresor (trust domain $td, join port on)"
tdir="$work/tresor"
start tresor env HOME="$work" "$tresor" dev --dir "$tdir" --port "$p_api" --management-port "$p_mgmt" --trust-domain "$td"
wait_for 120 "tresor dev start" curl -sf "http://127.0.0.1:$p_mgmt/readyz"
# tresor dev keeps the join port (a TLS port without client certificates) off; this demo's
# workloads join with tokens, so switch it on for loopback and restart on the same folder.
stop_pid tresor
sed -i "s|^  # join: \"0.0.0.0:7444\"|  join: \"127.0.0.1:$p_join\"|" "$tdir/tresor.yaml"
grep -q "join: \"127.0.0.1:$p_join\"" "$tdir/tresor.yaml" || die "could not enable the join port in $tdir/tresor.yaml"
start tresor env HOME="$work" "$tresor" dev --dir "$tdir" --port "$p_api" --management-port "$p_mgmt"
wait_for 60 "tresor dev restart" curl -sf "http://127.0.0.1:$p_mgmt/readyz"
# shellcheck source=/dev/null
source "$tdir/env.sh" # the admin: TRESOR_ADDR, TRESOR_CERT, TRESOR_KEY, TRESOR_CA
export HOME="$work"   # no ~/.tresor/profile.yaml of the user's gets in the way
t() { "$tresor" "$@"; }

say "2. identities through join tokens: openemr, mariadb, redis; the rotation job and an intruder"
ids="$work/identities"
mkdir -p "$ids" "$work/bootstrap"
join_identity() { # SERVICE-ACCOUNT
  local sa="$1"
  # The client record the token belongs to; the certificate client create issues is not used
  # (removed at once): the workload's own key is made by `cert join` on its host.
  t client create "$sa" --identity "$(id_of "$sa")" --out "$work/bootstrap/$sa" >/dev/null
  rm -rf "${work:?}/bootstrap/$sa"
  t token create --client "$sa" --ttl 10m >"$work/bootstrap/$sa.token"
  t cert join --token-file "$work/bootstrap/$sa.token" --out "$ids/$sa" --profile workload \
    --server "https://127.0.0.1:$p_join" --api "$TRESOR_ADDR" --ca-bundle "$TRESOR_CA"
  rm -f "$work/bootstrap/$sa.token"
}
# Short CLI runs that do not depend on each other go at once, in waves (a JVM start each); they
# are in pid_of while they run, so the trap stops them too.
wave=()
in_wave() { # NAME COMMAND...: in the background, output to logs/NAME.log
  start "$@"
  wave+=("$1")
}
end_wave() {
  local name pid
  for name in "${wave[@]}"; do
    pid="${pid_of[$name]}"
    wait "$pid" || die "$name failed: $(tail -n 3 "$logs/$name.log")"
    unset "pid_of[$name]"
  done
  wave=()
}
for sa in openemr mariadb redis; do
  in_wave "join-$sa" join_identity "$sa"
done
in_wave client-rotation t client create openemr-rotation --identity "$(id_of rotation)" --out "$ids/rotation"
# The intruder: a real client of this Tresor with a valid certificate, just not one the tunnels admit.
in_wave client-intruder t client create intruder --identity "$(id_of intruder)" --out "$ids/intruder"
in_wave group-openemr t group create openemr --description "the OpenEMR web workload"
in_wave group-rotation t group create openemr-rotation --description "the MariaDB rotation job"
end_wave
curl -sf "http://127.0.0.1:$p_mgmt/v1/ca/crl" -o "$work/ca.crl"

say "3. secrets: the rotation's slot and admin secrets, the Redis password; grants"
db_a_password="$(random_password)" db_b_password="$(random_password)" db_admin_password="$(random_password)"
redis_password="$(random_password)"
# The app reaches MariaDB through its tunnel client port: that is the slot users' host:port, so the
# rotation's verify-login and validation go the app's way. The admin logs in directly on loopback.
slot() { printf '{"username":"%s","password":"%s","host":"127.0.0.1","port":%d,"dbname":"openemr"}' "$1" "$2" "$p_tc_mariadb"; }
put_slots() {
  printf '{"active_slot":"A","A":%s,"B":%s}' "$(slot openemr_a "$db_a_password")" "$(slot openemr_b "$db_b_password")" \
    | t secret put openemr/db-slots - --group openemr --group openemr-rotation
}
put_admin() {
  printf '{"username":"tresor_rotation","password":"%s","host":"127.0.0.1","port":%d,"dbname":"openemr"}' \
    "$db_admin_password" "$p_mariadb" | t secret put openemr/db-admin - --group openemr-rotation
}
put_redis() { printf '%s' "$redis_password" | t secret put openemr/redis - --group openemr; }
in_wave grant-openemr t grant --client openemr --group openemr
in_wave grant-rotation t grant --client openemr-rotation --group openemr-rotation --role write
in_wave secret-slots put_slots
in_wave secret-admin put_admin
in_wave secret-redis put_redis
end_wave

say "4. MariaDB on 127.0.0.1:$p_mariadb (own datadir) and Redis on 127.0.0.1:$p_redis (requirepass)"
db="$work/mariadb"
mkdir -p "$db"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj "/CN=127.0.0.1" \
  -keyout "$db/server.key" -out "$db/server.crt" 2>/dev/null
mariadb-install-db --no-defaults --datadir="$db/data" --auth-root-authentication-method=socket --skip-test-db \
  >"$logs/mariadb-install.log" 2>&1 || die "mariadb-install-db failed: $(tail -5 "$logs/mariadb-install.log")"
admin_hash="$(php -r 'echo password_hash("pass", PASSWORD_BCRYPT, ["cost" => 4]);')"
grants="SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, INDEX, DROP, CREATE TEMPORARY TABLES, LOCK TABLES"
{
  echo "DELETE FROM mysql.global_priv WHERE User = '';"
  echo "FLUSH PRIVILEGES;"
  cat "$here/app/sql/openemr.sql"
  echo "INSERT INTO openemr.users_secure VALUES (1, 'admin', '$admin_hash');"
  # What a DBA gives the rotation once (docs/rotation.md): manage users and roles, grant on openemr.*.
  echo "CREATE USER 'tresor_rotation'@'%' IDENTIFIED BY '$db_admin_password' REQUIRE SSL;"
  echo "GRANT CREATE USER, SELECT, INSERT, UPDATE, DELETE, CREATE, RELOAD ON *.* TO 'tresor_rotation'@'%' WITH GRANT OPTION;"
  echo "GRANT ALL PRIVILEGES ON openemr.* TO 'tresor_rotation'@'%' WITH GRANT OPTION;"
  echo "GRANT SELECT ON mysql.* TO 'tresor_rotation'@'%';"
  # Today's OpenEMR user as slot A, and slot B, both with the role rotation.yaml declares (the
  # rotation would create missing ones itself; made here so the app works before the first run).
  echo "CREATE ROLE openemr_app;"
  # The rotation grants this role to the slot users, so it administers it (as if it had made it).
  echo "GRANT openemr_app TO 'tresor_rotation'@'%' WITH ADMIN OPTION;"
  echo "GRANT $grants ON openemr.* TO openemr_app;"
  for u in a b; do
    pw="$db_a_password"
    [ "$u" = b ] && pw="$db_b_password"
    echo "CREATE USER 'openemr_$u'@'%' IDENTIFIED BY '$pw';"
    echo "GRANT openemr_app TO 'openemr_$u'@'%';"
    echo "SET DEFAULT ROLE openemr_app FOR 'openemr_$u'@'%';"
  done
} >"$db/setup.sql"
chmod 600 "$db/setup.sql"
start mariadb /usr/sbin/mariadbd --no-defaults --user=root --datadir="$db/data" --port="$p_mariadb" \
  --bind-address=127.0.0.1 --socket="$db/mysqld.sock" --pid-file="$db/mysqld.pid" --skip-name-resolve \
  --ssl-cert="$db/server.crt" --ssl-key="$db/server.key" \
  --innodb-buffer-pool-size=32M --max-connections=200 --performance-schema=OFF --log-error="$logs/mariadb-error.log"
wait_for 60 "MariaDB start" mariadb --no-defaults --socket="$db/mysqld.sock" -uroot -e "SELECT 1"
# As root over the socket (root logs in by socket authentication only), like a DBA's first session.
mariadb --no-defaults --socket="$db/mysqld.sock" -uroot <"$db/setup.sql" >"$logs/mariadb-setup.log" 2>&1 \
  || die "setting up MariaDB failed: $(tail -n 3 "$logs/mariadb-setup.log")"
rm -f "$db/setup.sql"
mkdir -p "$work/redis"
start redis redis-server --bind 127.0.0.1 --port "$p_redis" --requirepass "$redis_password" --save '' \
  --appendonly no --dir "$work/redis" --protected-mode yes
redis_cli() { REDISCLI_AUTH="$1" redis-cli -h 127.0.0.1 -p "$p_redis" --no-auth-warning "${@:2}"; }
wait_for 30 "Redis start" bash -c "[ \"\$(REDISCLI_AUTH='$redis_password' redis-cli -p $p_redis --no-auth-warning PING)\" = PONG ]"

say "5. tunnels: servers in front of MariaDB and Redis (allow: openemr only), clients for the app"
cat >"$work/tunnels-db.yaml" <<EOF
# Beside the databases: each admits only the openemr identity (docs/tunnel.md).
management: 127.0.0.1:$p_db_mgmt
drainTimeout: 2s
tunnels:
  - {name: mariadb, mode: server, listen: "127.0.0.1:$p_ts_mariadb", target: "127.0.0.1:$p_mariadb",
     allow: ["$(id_of openemr)"], cert: identities/mariadb/cert.pem, key: identities/mariadb/key.pem,
     caBundle: identities/mariadb/ca.pem, crl: ca.crl}
  - {name: redis, mode: server, listen: "127.0.0.1:$p_ts_redis", target: "127.0.0.1:$p_redis",
     allow: ["$(id_of openemr)"], cert: identities/redis/cert.pem, key: identities/redis/key.pem,
     caBundle: identities/redis/ca.pem, crl: ca.crl}
EOF
cat >"$work/tunnels-app.yaml" <<EOF
# Beside OpenEMR: plaintext ports on loopback; each checks the server's identity.
drainTimeout: 2s
tunnels:
  - {name: app-mariadb, mode: client, listen: "127.0.0.1:$p_tc_mariadb", target: "127.0.0.1:$p_ts_mariadb",
     expect: ["$(id_of mariadb)"], cert: identities/openemr/cert.pem, key: identities/openemr/key.pem,
     caBundle: identities/openemr/ca.pem}
  - {name: app-redis, mode: client, listen: "127.0.0.1:$p_tc_redis", target: "127.0.0.1:$p_ts_redis",
     expect: ["$(id_of redis)"], cert: identities/openemr/cert.pem, key: identities/openemr/key.pem,
     caBundle: identities/openemr/ca.pem}
EOF
start db-tunnels "$tresor" tunnel --config "$work/tunnels-db.yaml"
start app-tunnels "$tresor" tunnel --config "$work/tunnels-app.yaml"
wait_for 60 "the database-side tunnels" curl -sf "http://127.0.0.1:$p_db_mgmt/healthz"
listening() { ss -Hltn "sport = :$1" | grep -q LISTEN; }
wait_for 60 "the app-side tunnels" bash -c "ss -Hltn 'sport = :$p_tc_mariadb' | grep -q LISTEN && ss -Hltn 'sport = :$p_tc_redis' | grep -q LISTEN"

say "6. tresor agent renders sqlconf.php and the Redis password into $shm/secrets (tmpfs)"
cat >"$work/agent.yaml" <<EOF
# As examples/openemr/agent/agent.yaml, with this run's paths.
credentials:
  dir: $ids/openemr
destination: $shm/secrets
secrets:
  - {secret: openemr/redis, file: redis-password, mode: "0400"}
templates:
  - file: sqlconf.php
    templateFile: $here/agent/sqlconf.php.peb
    secrets:
      db: {secret: openemr/db-slots, label: current, as: json}
    mode: "0400"
reload:
  # The app re-reads both files on every request; the reload only records that it happened.
  command: echo "\$(date +%s.%N) \$TRESOR_CHANGED_FILES" >> $work/agent-reloads.log
debounce: 100ms
status:
  file: $work/agent-status.json
EOF
start agent "$tresor" agent --config "$work/agent.yaml"
wait_for 60 "the agent's first render" test -s "$shm/secrets/sqlconf.php" -a -s "$shm/secrets/redis-password"

say "7. the OpenEMR-like app on http://127.0.0.1:$p_app (php -S), sites/default -> the agent's files"
www="$work/www"
cp -r "$here/app" "$www"
rm -rf "$www/sql"
mkdir -p "$www/sites/default"
ln -s "$shm/secrets/sqlconf.php" "$www/sites/default/sqlconf.php"
ln -s "$shm/secrets/redis-password" "$www/sites/default/redis-password"
start_group app env OPENEMR_REDIS_ADDR="127.0.0.1:$p_tc_redis" PHP_CLI_SERVER_WORKERS=3 \
  php -d display_errors=0 -d log_errors=1 -S "127.0.0.1:$p_app" -t "$www"
app="http://127.0.0.1:$p_app"
wait_for 60 "the app's login page" curl -sf "$app/interface/login/login.php"
jar="$work/warmup.cookies"
curl -sf -c "$jar" -d 'authUser=admin&clearPass=pass' "$app/interface/login/login.php" | grep -q 'logged in' \
  || die "warm-up login failed: $(curl -s -d 'authUser=admin&clearPass=pass' "$app/interface/login/login.php")"
curl -sf -b "$jar" "$app/interface/patient_file/demographics.php?set_pid=7" | grep -q '^patient 7:' \
  || die "warm-up patient lookup failed: $(curl -s -b "$jar" "$app/interface/patient_file/demographics.php?set_pid=7")"

cat >"$work/rotation.yaml" <<EOF
# As examples/openemr/rotation.yaml; the consumer is the agent, which follows the slot secret's
# current label: at the flip it renders the new slot's login, and the old slot keeps working
# until timeouts.drain has passed.
name: openemr
target:
  kind: mariadb
  tls:
    mode: require                  # MariaDB's self-signed certificate of this run (verify-full in production)
  userHost: "%"
  role: openemr_app
  grants:
    - privileges: [$grants]
      on: "*"
secrets:
  slots: openemr/db-slots
  admin: openemr/db-admin
consumers:
  - kind: command                  # the agent delivers; this records what was delivered (no password)
    command: ["/bin/sh", "-c", "echo \"\$(date +%s.%N) slot \$TRESOR_ROTATION_SLOT user \$TRESOR_ROTATION_USERNAME\" >> $work/rotation-deliveries.log"]
    timeout: 10s
  - kind: http-check
    url: $app/interface/login/login.php
    expectStatus: 200
    timeout: 5s
validation:
  sql: "SELECT 1 FROM globals LIMIT 1"
timeouts:
  connect: 5s
  appReady: 20s
  drain: 5s                        # the agent renders the new slot well within this after the flip
EOF
rotation_env=(env TRESOR_CERT="$ids/rotation/openemr-rotation.crt" TRESOR_KEY="$ids/rotation/openemr-rotation.key")

# The serial a tunnel's peer presented on its latest accepted connection, from the tunnel's log line
# "tunnel NAME: #N accepted IDENTITY (serial S) from A to B" (a client: "connected to IDENTITY").
peer_serial() { # LOG TUNNEL
  grep -o "tunnel $2: #[0-9]* [a-z ]*spiffe://[^ ]* (serial [0-9a-fA-F]*)" "$1" | tail -n1 \
    | sed 's/.*(serial \([0-9a-fA-F]*\))/\1/' | tr 'A-F' 'a-f' | sed 's/^0*//'
}
record_serials() { # PHASE
  {
    echo "$1.openemr=$(serial_of "$ids/openemr/cert.pem")"
    echo "$1.mariadb=$(serial_of "$ids/mariadb/cert.pem")"
    echo "$1.redis=$(serial_of "$ids/redis/cert.pem")"
    # What each side saw: a server tunnel sees the openemr certificate, a client tunnel the server's.
    echo "$1.seen.mariadb=$(peer_serial "$logs/db-tunnels.log" mariadb)"
    echo "$1.seen.redis=$(peer_serial "$logs/db-tunnels.log" redis)"
    echo "$1.seen.app-mariadb=$(peer_serial "$logs/app-tunnels.log" app-mariadb)"
    echo "$1.seen.app-redis=$(peer_serial "$logs/app-tunnels.log" app-redis)"
  } >>"$facts/serials.properties"
}
record_serials before

# ---------------------------------------------------------------------------------------------
say "8. load: ${rate} requests/s for ${duration}s (login + patient lookups), while:"
load_started=$(date +%s)
# Two workers at half the rate each: a request that waits for a slow moment does not stall the other.
worker_rate="$(php -r 'echo $argv[1] / 2;' "$rate")"
start loadgen-1 php "$here/loadgen.php" "$app" "$duration" "$worker_rate" "$facts/load-1.json" "$work/events-done"
start loadgen-2 php "$here/loadgen.php" "$app" "$duration" "$worker_rate" "$facts/load-2.json" "$work/events-done"
load_ends=$((load_started + duration))
left() { echo $((load_ends - $(date +%s))); }
sleep "$((duration / 10 > 2 ? duration / 10 : 2))"

rotations=0
rotate_mariadb() {
  rotations=$((rotations + 1))
  local n="$rotations" rc=0
  say "   - MariaDB rotation $n (dual slot, tresor rotate run)"
  "${rotation_env[@]}" "$tresor" rotate run --config "$work/rotation.yaml" --json >"$facts/rotation-$n.json" \
    2>"$logs/rotation-$n.err" || rc=$?
  echo "$rc" >"$facts/rotation-$n.rc"
  # Converged (judged in report.php): the run succeeded, `rotate status` finds every slot and the
  # admin logging in, and the app's sqlconf.php names the new active slot's user.
  "${rotation_env[@]}" "$tresor" rotate status --config "$work/rotation.yaml" --json \
    >"$facts/rotation-$n.status.json" 2>>"$logs/rotation-$n.err" || true
  local active user
  active="$(php -r '$r = json_decode(file_get_contents($argv[1]), true); echo $r["activeAfter"] ?? "";' "$facts/rotation-$n.json")"
  user="$(php -r 'require $argv[1]; echo $login;' "$shm/secrets/sqlconf.php")"
  echo "rendered=$user" >"$facts/rotation-$n.properties"
  say "     exit $rc, active slot $active, sqlconf.php logs in as $user"
}

renew_certificates() {
  say "   - renewing every tunnel certificate (tresor cert renew --force), waiting for the tunnels"
  local sa
  for sa in mariadb redis openemr; do
    in_wave "renew-$sa" t cert renew --dir "$ids/$sa" --force --profile workload
  done
  end_wave
  local new_openemr new_mariadb new_redis
  new_openemr="$(serial_of "$ids/openemr/cert.pem")"
  new_mariadb="$(serial_of "$ids/mariadb/cert.pem")"
  new_redis="$(serial_of "$ids/redis/cert.pem")"
  # Picked up when both ends of both pairs saw the other's new certificate on a new connection
  # (the load makes them; so do the requests here, should the load be slow).
  wait_for 60 "the tunnels presenting the renewed certificates" bash -c "
    $(declare -f peer_serial)
    curl -s -o /dev/null -b '$jar' '$app/interface/patient_file/demographics.php?set_pid=3'
    [ \"\$(peer_serial '$logs/db-tunnels.log' mariadb)\" = '$new_openemr' ] &&
    [ \"\$(peer_serial '$logs/db-tunnels.log' redis)\" = '$new_openemr' ] &&
    [ \"\$(peer_serial '$logs/app-tunnels.log' app-mariadb)\" = '$new_mariadb' ] &&
    [ \"\$(peer_serial '$logs/app-tunnels.log' app-redis)\" = '$new_redis' ]"
  record_serials after
}

rotate_redis() {
  say "   - Redis password rotation: second ACL password, new secret version, agent render, CONFIG SET"
  local new old="$redis_password" deadline ok=1
  new="$(random_password)"
  # Redis 7 users may have several passwords: the new one is added first, so a request that read
  # either file version authenticates; CONFIG SET requirepass would swap them in one step and fail
  # every request still holding the old one.
  redis_cli "$old" ACL SETUSER default on ">$new" >/dev/null
  printf '%s' "$new" | t secret put openemr/redis - >/dev/null
  deadline=$(($(date +%s) + 20))
  until [ "$(cat "$shm/secrets/redis-password")" = "$new" ]; do
    [ "$(date +%s)" -lt "$deadline" ] || { ok=0; break; }
    sleep 0.1
  done
  # Requests that read the old file before the swap finish within a second; then the old password
  # goes: CONFIG SET requirepass leaves the default user exactly the new one, and makes the
  # configuration say so (after ACL SETUSER it still names the old one, which a CONFIG REWRITE
  # would write back).
  sleep 1
  redis_cli "$new" CONFIG SET requirepass "$new" >/dev/null
  local old_answer new_answer
  old_answer="$(redis_cli "$old" PING 2>&1 || true)"
  new_answer="$(redis_cli "$new" PING 2>&1 || true)"
  local config_ok=true
  [ "$(redis_cli "$new" CONFIG GET requirepass | tail -n 1)" = "$new" ] || { config_ok=false; ok=0; }
  grep -q "redis-password" "$work/agent-reloads.log" || ok=0
  [ "$new_answer" = PONG ] || ok=0
  case "$old_answer" in *WRONGPASS* | *NOAUTH* | *invalid*) ;; *) ok=0 ;; esac
  redis_password="$new"
  {
    echo "rendered=$([ "$(cat "$shm/secrets/redis-password")" = "$new" ] && echo true || echo false)"
    echo "agentReloads=$(grep -c redis-password "$work/agent-reloads.log" || true)"
    echo "oldPassword=$(grep -m1 -o 'WRONGPASS.*' <<<"$old_answer" || head -n1 <<<"$old_answer")"
    echo "newPassword=$new_answer"
    echo "configNamesNewPassword=$config_ok"
    echo "converged=$([ "$ok" = 1 ] && echo true || echo false)"
  } >"$facts/redis-rotation.properties"
  say "     old password now: $(grep -m1 -o 'WRONGPASS[^.]*' <<<"$old_answer" || head -n1 <<<"$old_answer"); new: $new_answer"
}

refused_count() { # TUNNEL REASON
  curl -sf "http://127.0.0.1:$p_db_mgmt/metrics" \
    | awk -v t="tunnel=\"$1\"" -v r="reason=\"$2\"" 'index($0, "tresor_tunnel_connections_refused_total{") == 1 && index($0, t) && index($0, r) { print $NF }' \
    | awk '{ s += $1 } END { printf "%d\n", s }'
}

intruder() {
  say "   - intruder: MariaDB directly, then through the tunnel with its own valid certificate"
  local out="$facts/intruder.properties" external answer rc before after login password
  : >"$out"
  # a) MariaDB and Redis listen on 127.0.0.1 only: nothing answers on the host's network address.
  echo "mariadbBind=$(ss -Hltn "sport = :$p_mariadb" | awk '{print $4}' | sort -u | paste -sd, -)" >>"$out"
  echo "redisBind=$(ss -Hltn "sport = :$p_redis" | awk '{print $4}' | sort -u | paste -sd, -)" >>"$out"
  external="$(ip -4 -o addr show scope global 2>/dev/null | awk '{split($4, a, "/"); print a[1]; exit}')"
  echo "externalAddress=${external:-none}" >>"$out"
  if [ -n "$external" ]; then
    rc=0
    answer="$(mariadb --no-defaults -h "$external" -P "$p_mariadb" -u openemr_a --connect-timeout=2 -e 'SELECT 1' 2>&1)" || rc=$?
    echo "direct.mariadb.exit=$rc" >>"$out"
    echo "direct.mariadb.answer=$(head -n1 <<<"$answer")" >>"$out"
    rc=0
    answer="$(timeout 2 redis-cli -h "$external" -p "$p_redis" PING 2>&1)" || rc=$?
    echo "direct.redis.answer=$(head -n1 <<<"$answer")" >>"$out"
  fi
  # b) The tunnel port without TLS (a plain MariaDB client): it waits for a server greeting that
  #    never comes, gives up, and the tunnel counts a failed (or timed-out) handshake.
  before="$(($(refused_count mariadb handshake_failed) + $(refused_count mariadb handshake_timeout)))"
  rc=0
  answer="$(mariadb --no-defaults -h 127.0.0.1 -P "$p_ts_mariadb" -u openemr_a --connect-timeout=2 -e 'SELECT 1' 2>&1)" || rc=$?
  sleep 0.5
  after="$(($(refused_count mariadb handshake_failed) + $(refused_count mariadb handshake_timeout)))"
  {
    echo "plain.exit=$rc"
    echo "plain.answer=$(head -n1 <<<"$answer")"
    echo "plain.refusedHandshakes=$((after - before))"
  } >>"$out"
  # c) Through the tunnel with a valid certificate of another identity, and the database password
  #    stolen from the app's own sqlconf.php: refused by identity before a byte reaches MariaDB.
  start intruder-tunnel "$tresor" tunnel client --name intruder --listen "127.0.0.1:$p_intruder" \
    --target "127.0.0.1:$p_ts_mariadb" --expect "$(id_of mariadb)" \
    --cert "$ids/intruder/intruder.crt" --key "$ids/intruder/intruder.key" --ca-bundle "$ids/intruder/ca.crt"
  wait_for 60 "the intruder's tunnel client" listening "$p_intruder"
  login="$(php -r 'require $argv[1]; echo $login;' "$shm/secrets/sqlconf.php")"
  password="$(php -r 'require $argv[1]; echo $pass;' "$shm/secrets/sqlconf.php")"
  before="$(refused_count mariadb identity_not_allowed)"
  rc=0
  answer="$(MYSQL_PWD="$password" mariadb --no-defaults -h 127.0.0.1 -P "$p_intruder" -u "$login" \
    --connect-timeout=5 openemr -e 'SELECT COUNT(*) FROM patient_data' 2>&1)" || rc=$?
  sleep 0.5
  after="$(refused_count mariadb identity_not_allowed)"
  stop_pid intruder-tunnel
  {
    echo "tunnel.identity=$(id_of intruder)"
    echo "tunnel.exit=$rc"
    echo "tunnel.answer=$(head -n1 <<<"$answer")"
    echo "tunnel.refusedByIdentity=$((after - before))"
    echo "tunnel.serverLog=$(grep -m1 "refused $(id_of intruder)" "$logs/db-tunnels.log" | sed 's/^.*tunnel mariadb: //' | cut -c1-200)"
  } >>"$out"
  say "     through the tunnel: exit $rc, refused by identity: $((after - before))"
}

rotate_mariadb
renew_certificates
rotate_redis
intruder
# A second rotation (back to the first slot) in a run of 40 s or more, or when the load still has
# time for it (the load goes on until the events are over either way).
if [ "$duration" -ge 40 ] || [ "$(left)" -ge 15 ]; then
  rotate_mariadb
fi

touch "$work/events-done" # the load goes on until --duration is over, and never ends before the events
[ "$(left)" -gt 0 ] && say "   waiting for the load to end ($(left)s)"
for worker in loadgen-1 loadgen-2; do
  wait "${pid_of[$worker]}" || die "the load generator $worker failed: $(tail -n 5 "$logs/$worker.log")"
  unset "pid_of[$worker]"
  [ -s "$facts/load-${worker#loadgen-}.json" ] || die "the load generator $worker wrote no result"
done

# ---------------------------------------------------------------------------------------------
say "9. audit, mesh, report"
stop_pid app
stop_pid agent
stop_pid app-tunnels
stop_pid db-tunnels
stop_pid tresor   # the audit log is complete and closed before it is verified
{
  # Every audited read of a secret value: who read (the agent as openemr, the rotation job), and
  # the reads answered without a value (the rotation asking for a 'pending' version: 404).
  reads() { grep '"action":"secret.read"' "$tdir/audit.log" | grep "\"outcome\":\"$1\"" || true; }
  reads allowed | grep -o '"client":"[^"]*"' | sort | uniq -c \
    | awk '{ sub(/"client":"/, "", $2); sub(/"$/, "", $2); print "reads." $2 "=" $1 }'
  echo "reads.total=$(reads allowed | wc -l)"
  echo "rejected.total=$(reads rejected | wc -l)"
  echo "denied.total=$(reads denied | wc -l)"
  echo "records.total=$(grep -c '"type":"event"' "$tdir/audit.log" || true)"
  echo "joins=$(grep '"action":"ca.join"' "$tdir/audit.log" | grep -c '"outcome":"allowed"' || true)"
  echo "renewals=$(grep '"action":"ca.renew"' "$tdir/audit.log" | grep -c '"outcome":"allowed"' || true)"
  rc=0
  answer="$("$tresor" audit verify "$tdir/audit.log" --key "$tdir/kek.json" 2>&1)" || rc=$?
  echo "verify.exit=$rc"
  echo "verify.answer=$(tr '\n' ' ' <<<"$answer" | cut -c1-300)"
} >"$facts/audit.properties"
{
  rc=0
  "$tresor" mesh render --topology "$here/topology.yaml" --out "$work/mesh" >"$logs/mesh-render.log" 2>&1 || rc=$?
  echo "render.exit=$rc"
  rc=0
  answer="$("$tresor" mesh check --topology "$here/topology.yaml" --manifests "$work/mesh" 2>&1)" || rc=$?
  echo "check.exit=$rc"
  echo "check.answer=$(tail -n1 <<<"$answer" | cut -c1-300)"
  # The manifests committed under k8s/mesh must be exactly what the renderer makes today.
  rc=0
  diff -r "$work/mesh" "$here/k8s/mesh" >"$logs/mesh-diff.log" 2>&1 || rc=$?
  echo "committed.exit=$rc"
} >"$facts/mesh.properties"

php "$here/report.php" "$facts" "$report_file"
