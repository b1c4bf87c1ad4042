#!/usr/bin/env bash
# bench/soak: the 7-hub federation of `carehub demo` (links sh-js sh-zj js-ah sh-gd gd-hk gd-mo;
# Anhui hears Shanghai only through Jiangsu) under faults, measuring time to detect and to heal:
#   partition  Jiangsu's serve is stopped (SIGSTOP) while Shanghai ingests 500 new rows; detect =
#              until Shanghai logs "peer js is silent"; after 2 s it is resumed (SIGCONT); heal =
#              from SIGCONT until every hub holds Shanghai's new head (Anhui only through Jiangsu);
#   changelog  one byte of a relayed change body (origin Shanghai) in Jiangsu's store is changed
#              under the running serve; detect = until Jiangsu logs a store check finding it;
#              heal = until Jiangsu's `digest --origin sh` log hash equals Shanghai's again (log
#              cut back, pulled again from Shanghai);
#   records    one `records` row of origin Shanghai in Zhejiang's store is pointed at the change of
#              another record (what it serves as the record's body changes); detect as above in
#              Zhejiang's log; heal = until Zhejiang's records digest of Shanghai equals Shanghai's
#              (the row rewritten from its change);
#   restart    Guangdong's serve (the relay to Hong Kong and Macau) is killed (SIGKILL) and started
#              again with the same command, then Shanghai ingests 500 rows; heal = from the restart
#              until every hub holds Shanghai's new head.
# Each fault is injected ROUNDS times; times are polled every 100 ms. At the end every hub's
# digests must equal Shanghai's (else exit 1). The baseline is the demo's own convergence.
#
# The damaged bodies are stored compressed (the first seq at or after the chosen one whose body
# has a dictionary; the seqs and how their bodies were stored are printed at the end): a relay
# stores a schema's first 4095 bodies raw, so ROWS must exceed ~4096 for any to be compressed.
# usage: bench/soak.sh [ROWS] [ROUNDS]     (defaults 10000, 3; ROWS per native file as in the demo)
# env:   CAREHUB=path/to/carehub (default: the Release build), BENCH_DIR=scratch directory
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rows=${1:-10000}
rounds=${2:-3}
# shellcheck source=bench/common.sh
source "$root/bench/common.sh"
command -v sqlite3 >/dev/null || { echo "bench/soak: sqlite3 missing" >&2; exit 1; }
work=${BENCH_DIR:-$(mktemp -d)}
mkdir -p "$work"
demo_pid=
stopped=
restarted=()  # serve processes this script started again itself (the demo stops its own)
cleanup() {
  [ -z "$stopped" ] || kill -CONT "$stopped" 2>/dev/null || true
  for pid in "${restarted[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  if [ -n "$demo_pid" ]; then
    kill -INT "$demo_pid" 2>/dev/null || true
    wait "$demo_pid" 2>/dev/null || true
  fi
  [ -n "${BENCH_DIR:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"

hubs=(sh js zj ah gd hk mo)
now() { date +%s.%N; }
since() { awk -v s="$1" -v e="$(now)" 'BEGIN { printf "%.2f", e - s }'; }
db() { echo "$work/demo/$1/carehub.db"; }
head_of() {  # head_of HUB ORIGIN
  sqlite3 -cmd ".timeout 2000" "file:$(db "$1")?mode=ro" \
    "SELECT coalesce(max(seq), 0) FROM heads WHERE origin = '$2'" 2>/dev/null || echo 0
}
serve_pid() { pgrep -f "serve --dir $work/demo/$1 " | head -1; }
wait_for() {  # wait_for LIMIT_S COMMAND...: polls every 100 ms; prints seconds or "timeout"
  local start
  start=$(now)
  while ! "${@:2}"; do
    if awk -v s="$(since "$start")" -v l="$1" 'BEGIN { exit !(s > l) }'; then
      echo timeout
      return
    fi
    sleep 0.1
  done
  since "$start"
}
all_hold() {  # all_hold ORIGIN SEQ
  for h in "${hubs[@]}"; do [ "$(head_of "$h" "$1")" -ge "$2" ] || return 1; done
}
logged_count() { grep -c "$2" "$work/demo/$1/serve.log" 2>/dev/null || true; }
more_than() { [ "$(logged_count "$1" "$2")" -gt "$3" ]; }
batch=0
ingest_sh() {  # 500 new rows at Shanghai; prints its new head
  batch=$((batch + 1))
  "$carehub" gen --region sh --kind assessment --rows 500 --seed $((100 + batch)) \
    --defect-rate 0 --out "$work/extra$batch.csv" >/dev/null 2>&1
  "$carehub" ingest --dir "$work/demo/sh" --profile shanghai/assessment \
    "$work/extra$batch.csv" >/dev/null
  head_of sh 310000
}
digest_field() {  # digest_field HUB FIELD: Shanghai's digest line's sha256= or log= at HUB
  "$carehub" digest --dir "$work/demo/$1" --origin sh | tr ' ' '\n' | sed -n "s/^$2=//p"
}
same_as_sh() { [ "$(digest_field "$1" "$2")" = "$(digest_field sh "$2")" ]; }
# The first seq >= $2 of Shanghai's log at hub $1 whose body and the one before are stored
# compressed (dict set; a relay's first 4095 bodies of a schema stay raw, docs/STORE.md), else $2.
compressed_seq() {
  local s
  s=$(sqlite3 -cmd ".timeout 5000" "file:$(db "$1")?mode=ro" "SELECT min(c.seq) FROM changes c \
    JOIN changes p ON p.origin = c.origin AND p.seq = c.seq - 1 WHERE c.origin = '310000' \
    AND c.seq >= $2 AND c.dict IS NOT NULL AND p.dict IS NOT NULL")
  echo "${s:-$2}"
}
body_kind() {  # body_kind HUB SEQ: "compressed" or "raw"
  sqlite3 -cmd ".timeout 5000" "file:$(db "$1")?mode=ro" "SELECT CASE WHEN dict IS NULL THEN \
    'raw' ELSE 'compressed' END FROM changes WHERE origin = '310000' AND seq = $2"
}
damaged=()
results=()
record() {  # record FAULT ROUND DETECT HEAL
  printf '%-10s %5s %11s %9s\n' "$1" "$2" "$3" "$4"
  results+=("$1 $3 $4")
}
total() {  # total DETECT HEAL: heal counted from the injection
  awk -v d="$1" -v h="$2" \
    'BEGIN { if (d == "timeout" || h == "timeout") print "timeout"; else printf "%.2f", d + h }'
}

"$carehub" demo --rows "$rows" --dir "$work/demo" >"$work/demo.out" 2>&1 &
demo_pid=$!
until grep -q "Hubs are serving" "$work/demo.out" 2>/dev/null; do
  kill -0 "$demo_pid" 2>/dev/null || { cat "$work/demo.out" >&2; exit 1; }
  sleep 1
done
records=$(sqlite3 "file:$(db sh)?mode=ro" "SELECT count(*) FROM records")
echo "baseline: demo converged in $(grep -o 'every head ([0-9.]* s)' "$work/demo.out" |
  grep -o '[0-9.]* s') ($rows rows per native file; $records records on every hub)"
echo "load average after the demo: $(cut -d' ' -f1-3 /proc/loadavg)"

printf '%-10s %5s %11s %9s\n' fault round "detect (s)" "heal (s)"
for round in $(seq "$rounds"); do
  silent_before=$(logged_count sh "peer js is silent")
  stopped=$(serve_pid js)
  kill -STOP "$stopped"
  detect=$(wait_for 30 more_than sh "peer js is silent" "$silent_before")
  target=$(ingest_sh)
  sleep 2
  kill -CONT "$stopped"
  stopped=
  record partition "$round" "$detect" "$(wait_for 120 all_hold 310000 "$target")"

  checks_before=$(logged_count js "store check")
  seq=$(compressed_seq js $(($(head_of js 310000) / 2 + round)))
  sqlite3 -cmd ".timeout 5000" "$(db js)" "UPDATE changes SET body = \
    substr(body, 1, length(body) - 1) || x'00' WHERE origin = '310000' AND seq = $seq"
  damaged+=("changelog round $round: js seq $seq, body $(body_kind js "$seq")")
  detect=$(wait_for 300 more_than js "store check" "$checks_before")
  record changelog "$round" "$detect" "$(total "$detect" "$(wait_for 300 same_as_sh js log)")"

  checks_before=$(logged_count zj "store check")
  seq=$(compressed_seq zj $(($(head_of zj 310000) / 3 + round)))
  damaged+=("records round $round: zj record at seq $seq, pointed at seq $((seq - 1)): bodies \
$(body_kind zj "$seq") and $(body_kind zj $((seq - 1)))")
  sqlite3 -cmd ".timeout 5000" "$(db zj)" \
    "UPDATE records SET seq = seq - 1 WHERE origin = '310000' AND seq = $seq"
  detect=$(wait_for 300 more_than zj "store check" "$checks_before")
  record records "$round" "$detect" "$(total "$detect" "$(wait_for 300 same_as_sh zj sha256)")"

  victim=$(serve_pid gd)
  cmd=$(tr '\0' ' ' <"/proc/$victim/cmdline")
  kill -KILL "$victim"
  sleep 1
  # shellcheck disable=SC2086
  $cmd >>"$work/demo/gd/serve.log" 2>&1 &
  restarted+=($!)
  disown  # killed by the next round or by cleanup: no job notice
  target=$(ingest_sh)
  record restart "$round" "-" "$(wait_for 120 all_hold 310000 "$target")"
done

echo "load average after the faults: $(cut -d' ' -f1-3 /proc/loadavg)"
printf 'damaged: %s\n' "${damaged[@]}"
printf '%s\n' "${results[@]}" | awk '
  { n[$1]++
    if ($2 == "timeout") t[$1]++; else if ($2 != "-") { dn[$1]++; d[$1] += $2; if ($2 > dm[$1]) dm[$1] = $2 }
    if ($3 == "timeout") t[$1]++; else { hn[$1]++; h[$1] += $3; if ($3 > hm[$1]) hm[$1] = $3 } }
  END { for (f in n) {
          det = dn[f] ? sprintf("detect mean %6.2f max %6.2f s", d[f] / dn[f], dm[f]) : sprintf("%-30s", "detect -")
          printf "summary %-10s rounds %d  %s  heal mean %6.2f max %6.2f s  timeouts %d\n",
            f, n[f], det, hn[f] ? h[f] / hn[f] : -1, hm[f], t[f] } }'
healthy=yes
reference=$("$carehub" digest --dir "$work/demo/sh")
for h in "${hubs[@]:1}"; do
  [ "$("$carehub" digest --dir "$work/demo/$h")" = "$reference" ] ||
    { healthy=no; echo "hub $h: digests differ from Shanghai's" >&2; }
done
echo "all 7 hubs' digests equal after the soak: $healthy"
[ "$healthy" = yes ]
