#!/usr/bin/env bash
# bench/store_check: the cost of `carehub serve`'s background store check (issue 17,
# docs/PROTOCOL.md "Detection and repair"). A hub of ROWS generated assessments (ROWS change-log
# entries and ROWS records rows) is served with no member to talk to, so its exchange loop does
# little but the check: 2000 rows every 100 ms, i.e. at most 20,000 rows a second. The serve's
# CPU (user+sys, /proc/PID/stat) over WINDOW seconds of that is the check's cost; the serve's own
# `loop:` line (printed when it stops) gives the check's part of the loop exactly.
# Baseline in the same run: BASELINE=path/to/another/carehub (e.g. a build of the previous main)
# served on the same store, alternately with the binary under test, ROUNDS times each; the ratio
# is baseline CPU / CPU (above 1: the check got cheaper).
#
# usage: bench/store_check.sh [ROWS]     (default 300000)
# env:   CAREHUB=path/to/carehub (default: the Release build in build/release, built when missing)
#        BASELINE=path/to/carehub to compare with (default: none)
#        WINDOW=seconds per run (default 30: one pass of 300000 rows, entries and records)
#        ROUNDS=runs per binary (default 2)
#        BENCH_DIR=scratch directory (default: mktemp -d)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rows=${1:-300000}
window=${WINDOW:-30}
rounds=${ROUNDS:-2}
# shellcheck source=bench/common.sh
source "$root/bench/common.sh"

work=${BENCH_DIR:-$(mktemp -d)}
mkdir -p "$work"
server=""
cleanup() {
  if [ -n "$server" ]; then kill -TERM "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  [ -n "${BENCH_DIR:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# serve_cpu BINARY: serves the hub for $window seconds; sets $cpu (seconds of CPU in the window).
serve_cpu() {
  "$1" serve --dir "$work/a" --zmq "tcp://127.0.0.1:$(port)" >"$work/serve.out" 2>"$work/serve.log" &
  server=$!
  sleep 1  # opened, the first steps taken
  local t0 t1
  t0=$(ticks "$server")
  sleep "$window"
  t1=$(ticks "$server")
  kill -TERM "$server"; wait "$server" 2>/dev/null || true; server=""
  cpu=$(awk -v a="$t0" -v b="$t1" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", (b - a) / hz }')
}

echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "carehub: $carehub${BASELINE:+  baseline: $BASELINE}"
"$carehub" init --dir "$work/a" --region sh >/dev/null
"$carehub" gen --region sh --kind assessment --rows "$rows" --seed 1 --defect-rate 0 \
  --out "$work/sh.csv" >/dev/null 2>&1
"$carehub" ingest --dir "$work/a" --profile shanghai/assessment "$work/sh.csv" >/dev/null
rm -f "$work/sh.csv"
echo "== $rows records, $rows entries; window $window s (the check: at most $((20000 * window)) rows)"
total=0 base_total=0
for round in $(seq "$rounds"); do
  serve_cpu "$carehub"
  total=$(awk -v a="$total" -v b="$cpu" 'BEGIN { print a + b }')
  printf 'round %d: carehub  cpu %6s s = %5.1f%% of a core   %s\n' "$round" "$cpu" \
    "$(awk -v c="$cpu" -v w="$window" 'BEGIN { print 100 * c / w }')" \
    "$(grep '^loop:' "$work/serve.out" || echo '(no loop line)')"
  if [ -n "${BASELINE:-}" ]; then
    serve_cpu "$BASELINE"
    base_total=$(awk -v a="$base_total" -v b="$cpu" 'BEGIN { print a + b }')
    printf 'round %d: baseline cpu %6s s = %5.1f%% of a core\n' "$round" "$cpu" \
      "$(awk -v c="$cpu" -v w="$window" 'BEGIN { print 100 * c / w }')"
  fi
done
if [ -n "${BASELINE:-}" ]; then
  echo "ratio baseline/carehub CPU: $(awk -v b="$base_total" -v c="$total" 'BEGIN { printf "%.2f", (c > 0 ? b / c : 0) }') (above 1: cheaper)"
fi
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
