# Sourced by the bench/*.sh scripts: JDK, build, class path, and a Tresor server in a temp folder.
# Every process a script starts is remembered by PID and stopped by PID on exit.
set -euo pipefail
bench_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$bench_dir/.." && pwd)"
# shellcheck source=bin/jdk.sh
source "$root/bin/jdk.sh"
JAVA_HOME="$(tresor_find_jdk)"
export JAVA_HOME
java="$JAVA_HOME/bin/java"
started_pids=()

# Builds the CLI jar and the bench classes (reactor build, nothing installed into ~/.m2).
bench_build() {
  if [ "${BENCH_NO_BUILD:-0}" != 1 ]; then
    (cd "$root" && MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow" \
      mvn -B -q -ntp -Dstyle.color=never -pl tresor-cli,bench -am package -DskipTests -Dmaven.test.skip=true)
  fi
  bench_cp="${BENCH_EXTRA_CP:+$BENCH_EXTRA_CP:}$root/bench/target/classes:$(cat "$root/bench/target/classpath.txt")"
  export TRESOR_NO_BUILD=1
}

# Runs a bench main: bench_java CLASS ARGS...
bench_java() {
  local cls="$1"
  shift
  "$java" --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow ${BENCH_JAVA_OPTS:-} \
    -cp "$bench_cp" "dev.tresor.bench.$cls" "$@"
}

free_ports() {
  bench_java FreePorts "$1"
}

# tresor_init DIR API_PORT MGMT_PORT: a production data folder (tresor init) on loopback ports.
tresor_init() {
  # The admin's credentials go beside the data folder, in DIR-admin (DataDir.admin() looks there).
  "$root/bin/tresor" init "$1" --admin-out "$1-admin" --listen "127.0.0.1:$2" --management "127.0.0.1:$3" >/dev/null
}

# tresor_start DIR MGMT_PORT LOG: starts `tresor server` in the background; sets tresor_pid; waits for /readyz.
tresor_start() {
  local dir="$1" mgmt="$2" log="$3" i
  "$root/bin/tresor" server --config "$dir/tresor.yaml" >"$log" 2>&1 &
  tresor_pid=$!
  started_pids+=("$tresor_pid")
  for i in $(seq 1 600); do
    if curl -fsS "http://127.0.0.1:$mgmt/readyz" >/dev/null 2>&1; then
      return 0
    fi
    kill -0 "$tresor_pid" 2>/dev/null || { cat "$log" >&2; echo "tresor server died" >&2; return 1; }
    sleep 0.1
  done
  echo "tresor server not ready after 60 s" >&2
  return 1
}

# Stops one process we started (SIGTERM, then SIGKILL after 20 s).
stop_pid() {
  local pid="$1" i
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 200); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
}

bench_cleanup() {
  local pid
  for pid in "${started_pids[@]}"; do
    stop_pid "$pid"
  done
}

machine_line() {
  printf 'nproc=%s; %s; %s; uptime:%s\n' "$(nproc)" "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')" \
    "$(free -m | awk '/Mem:/{print "memory " $2 " MiB"}')" "$(uptime)"
}

# Waits (up to 10 min) until the server's AOT cache for the current tresor.jar exists: bin/tresor
# trains it in the background on the first `tresor server` after a build, and that training run
# would otherwise share the cores with (and change the start-up of) the first measured servers.
bench_server_aot() {
  local target="$root/tresor-cli/target" i
  [ "${TRESOR_AOT:-1}" = 0 ] && return 0
  if [ -z "$(find "$target" -maxdepth 1 -name 'tresor-server-*.aot' -newer "$target/tresor.jar" -print -quit)" ]; then
    echo "making the server's AOT cache (bin/tresor trains it once per build)…" >&2
    "$root/bin/tresor" server --help >/dev/null 2>&1 || true
  fi
  for i in $(seq 1 600); do
    if [ -n "$(find "$target" -maxdepth 1 -name 'tresor-server-*.aot' -newer "$target/tresor.jar" -print -quit)" ]; then
      return 0
    fi
    sleep 1
  done
  echo "warning: no server AOT cache after 10 min; servers run without it" >&2
}
