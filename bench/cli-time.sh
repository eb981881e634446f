#!/usr/bin/env bash
# Whole-process time of `tresor secret get` (bin/tresor: AOT cache, C1, SerialGC) against a local
# server: median (min-max) of RUNS runs, with and without the AOT cache. Writes bench/results/cli.md.
#   bench/cli-time.sh [RUNS]     (default 21)
source "$(dirname "$0")/lib.sh"
runs="${1:-21}"
bench_build
work="$(mktemp -d /tmp/tresor-cli.XXXXXX)"
trap 'bench_cleanup; rm -rf "$work"' EXIT
read -r api mgmt <<<"$(free_ports 2)"
tresor_init "$work/tresor" "$api" "$mgmt"
tresor_start "$work/tresor" "$mgmt" "$work/tresor.log"
bench_java Populate --dir "$work/tresor" --port "$api" --out "$work/reader" --count 1 --value-bytes 64 >/dev/null
export TRESOR_ADDR="https://127.0.0.1:$api" TRESOR_CERT="$work/reader/reader.crt" TRESOR_KEY="$work/reader/reader.key" \
  TRESOR_CA="$work/tresor/ca.crt"
# Make sure the AOT cache exists (bin/tresor trains it in the background on first use).
"$root/bin/tresor" secret get bench/s-000 >/dev/null
for _ in $(seq 1 180); do
  compgen -G "$root/tresor-cli/target/tresor-[0-9]*.aot" >/dev/null && break
  sleep 1
done
measure() { # measure LABEL -> prints "median min max" in seconds
  local times=() i s e
  for i in $(seq 1 "$runs"); do
    s=$(date +%s%N)
    "$root/bin/tresor" secret get bench/s-000 >/dev/null
    e=$(date +%s%N)
    times+=("$(( (e - s) / 1000000 ))")
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.3f %.3f %.3f\n", a[int((NR+1)/2)]/1000, a[1]/1000, a[NR]/1000}'
}
with_aot=$(measure aot)
without_aot=$(TRESOR_AOT=0 measure plain)
read -r m1 a1 b1 <<<"$with_aot"
read -r m2 a2 b2 <<<"$without_aot"
out="$root/bench/results/cli.md"
{
  echo "# CLI: whole-process \`tresor secret get\`"
  echo
  echo "Made by \`bench/cli-time.sh $runs\`: \`bin/tresor secret get NAME\` (64-byte secret, mTLS to a local \`tresor server\` on SQLite),"
  echo "wall time from fork to exit measured by the shell, $runs runs each, run one after the other. Machine: $(machine_line)"
  echo
  echo "| variant | median s | min s | max s |"
  echo "|---|---:|---:|---:|"
  echo "| bin/tresor (AOT cache, C1 only, SerialGC) | $m1 | $a1 | $b1 |"
  echo "| bin/tresor with TRESOR_AOT=0 (no AOT cache) | $m2 | $a2 | $b2 |"
} >"$out"
cat "$out"
