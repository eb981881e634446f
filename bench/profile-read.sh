#!/usr/bin/env bash
# JFR CPU profile of the Tresor read path (SQLite, 100 secrets of 64 bytes, 16 connections,
# octet-stream then JSON), outside any measured window: warm-up load first, then a recording
# taken while the load runs. Writes bench/results/profile-read.md (+ the .jfr under /tmp).
#   bench/profile-read.sh [SECONDS]     (recording length per answer format, default 30)
source "$(dirname "$0")/lib.sh"
seconds="${1:-30}"
bench_build
work="$(mktemp -d /tmp/tresor-profile.XXXXXX)"
trap 'bench_cleanup' EXIT
read -r api mgmt <<<"$(free_ports 2)"
tresor_init "$work/tresor" "$api" "$mgmt"
tresor_start "$work/tresor" "$mgmt" "$work/tresor.log"
bench_java Populate --dir "$work/tresor" --port "$api" --out "$work/reader" --count 100 --value-bytes 64 >/dev/null
load() { # load ACCEPT SECONDS
  bench_java LoadGen --port "$api" --cert "$work/reader/reader.crt" --key "$work/reader/reader.key" --ca "$work/tresor/ca.crt" \
    --path /v1/secrets/bench/s- --path-count 100 --accept "$1" --connections 16 --warmup 0 --duration "$2" \
    --pids "$tresor_pid" --label "$1"
}
echo "== warm-up (90 s, not recorded)"
load application/octet-stream 45
load application/json 45
out="$root/bench/results/profile-read.md"
{
  echo "# JFR profile of the Tresor read path"
  echo
  echo "Made by \`bench/profile-read.sh $seconds\`: Tresor on SQLite (\`tresor server\`), 100 secrets of 64 bytes, one reader,"
  echo "16 keep-alive mTLS connections (closed loop), after 90 s of unrecorded warm-up. JFR \`profile\` settings"
  echo "(CPU sampling every 10-20 ms per thread). Machine: $(machine_line)"
  echo
} >"$out"
for accept in application/octet-stream application/json; do
  jfr="$work/read-${accept#application/}.jfr"
  "$JAVA_HOME/bin/jcmd" "$tresor_pid" JFR.start name=read settings=profile filename="$jfr" >/dev/null
  load "$accept" "$seconds" | tee -a "$work/load.txt"
  "$JAVA_HOME/bin/jcmd" "$tresor_pid" JFR.stop name=read >/dev/null
  cp "$jfr" "/tmp/tresor-profile-${accept#application/}.jfr"
  {
    echo "## Accept: $accept"
    echo
    echo "Load during the recording (not a benchmark figure: JFR was on): \`$(tail -n1 "$work/load.txt")\`"
    echo
    bench_java JfrTop "$jfr" 20
    echo "### Allocation (JFR \`allocation-by-site\` view)"
    echo
    echo '```'
    "$JAVA_HOME/bin/jfr" view --width 160 allocation-by-site "$jfr" | head -n 30
    echo '```'
    echo
  } >>"$out"
done
echo "wrote $out; recordings in /tmp/tresor-profile-*.jfr"
