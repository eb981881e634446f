#!/usr/bin/env bash
# tresor mount: whole-process `cat` of a 64-byte secret through the FUSE mount (median of RUNS, next
# to `cat` of the same bytes on tmpfs, which is the process-start floor), and small-file reads/s
# (open + read + close, each open one audited server read) from 1 and 8 reader threads.
# A `tresor dev` server and `tresor mount` on loopback; writes bench/results/mount.md.
#   bench/mount.sh [RUNS] [SECONDS]          (default 200 runs, 10 s per reads/s measurement)
# BENCH_NO_BUILD=1 uses the tresor.jar already built.
source "$(dirname "$0")/lib.sh"
runs="${1:-200}"
seconds="${2:-10}"
[ -e /usr/lib/x86_64-linux-gnu/libfuse3.so.3 ] || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fuse3 >/dev/null
if [ "${BENCH_NO_BUILD:-0}" != 1 ]; then
  (cd "$root" && MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow" \
    mvn -B -q -ntp -pl tresor-cli -am package -DskipTests -Dmaven.test.skip=true)
fi
export TRESOR_NO_BUILD=1
work="$(mktemp -d /tmp/tresor-mount-bench.XXXXXX)"
mnt="$work/mnt"
mkdir -p "$mnt" /dev/shm/tresor-mount-bench
cleanup() {
  bench_cleanup
  fusermount3 -u -z "$mnt" 2>/dev/null || true
  rm -rf "$work" /dev/shm/tresor-mount-bench
}
trap cleanup EXIT

"$root/bin/tresor" dev --dir "$work/dev" --port 0 --management-port 0 >"$work/dev.log" 2>&1 &
started_pids+=($!)
for _ in $(seq 1 600); do [ -s "$work/dev/env.sh" ] && grep -q TRESOR_ADDR "$work/dev/env.sh" && break; sleep 0.1; done
# shellcheck disable=SC1091
source "$work/dev/env.sh"
for _ in $(seq 1 600); do "$root/bin/tresor" whoami >/dev/null 2>&1 && break; sleep 0.1; done

value="$(head -c 48 /dev/urandom | base64 | tr -d '\n')"   # 64 characters
printf '%s' "$value" | "$root/bin/tresor" secret put bench/s64 - --group dev >/dev/null
printf '%s' "$value" >/dev/shm/tresor-mount-bench/s64

"$root/bin/tresor" mount "$mnt" >"$work/mount.log" 2>&1 &
started_pids+=($!)
for _ in $(seq 1 600); do [ -e "$mnt/bench/s64" ] && break; sleep 0.1; done
[ "$(cat "$mnt/bench/s64")" = "$value" ] || { cat "$work/mount.log" >&2; echo "mount does not show the secret" >&2; exit 1; }

# median_cat FILE: whole-process cat, RUNS times, median and p90 in microseconds.
median_cat() {
  local file="$1" i t0 t1
  for i in $(seq 1 "$runs"); do
    t0=$(date +%s%N); cat "$file" >/dev/null; t1=$(date +%s%N)
    echo $(( (t1 - t0) / 1000 ))
  done | sort -n | awk '{a[NR]=$1} END {printf "%d %d", a[int((NR+1)/2)], a[int(NR*0.9)]}'
}
for _ in $(seq 1 50); do cat "$mnt/bench/s64" >/dev/null; done   # warm the mount's JIT and connection
read -r fuse_p50 fuse_p90 <<<"$(median_cat "$mnt/bench/s64")"
read -r tmpfs_p50 tmpfs_p90 <<<"$(median_cat /dev/shm/tresor-mount-bench/s64)"
read -r _ r1 f1 <<<"$("$java" "$bench_dir/src/main/java/dev/tresor/bench/MountReads.java" "$mnt/bench/s64" "$seconds" 1)"
read -r _ r8 f8 <<<"$("$java" "$bench_dir/src/main/java/dev/tresor/bench/MountReads.java" "$mnt/bench/s64" "$seconds" 8)"

out="$bench_dir/results/mount.md"
{
  echo "# tresor mount: cat latency and small-file reads/s"
  echo
  echo "$(date -u +%Y-%m-%dT%H:%MZ); $(machine_line)"
  echo
  echo "A \`tresor dev\` server (SQLite) and \`tresor mount\` on the same machine, loopback mTLS. The"
  echo "secret is 64 bytes. Every open of a mounted file is one audited server read."
  echo
  echo "| measurement | result |"
  echo "|---|---|"
  echo "| whole-process \`cat\` through the mount, median (p90) of $runs | ${fuse_p50} µs (${fuse_p90} µs) |"
  echo "| whole-process \`cat\` of the same bytes on tmpfs (process start floor) | ${tmpfs_p50} µs (${tmpfs_p90} µs) |"
  echo "| mount's share of a \`cat\` (median difference) | $(( fuse_p50 - tmpfs_p50 )) µs |"
  echo "| open+read+close reads/s, 1 reader ($seconds s) | ${r1} (failures ${f1}) |"
  echo "| open+read+close reads/s, 8 readers ($seconds s) | ${r8} (failures ${f8}) |"
} >"$out"
cat "$out"
echo "wrote $out"
