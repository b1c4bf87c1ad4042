#!/usr/bin/env bash
# bench/relay: how promptly a relay forwards what it has verified and committed (issue 17).
#   A (Shanghai) holds ROWS generated assessments; B (Jiangsu) dials A; C (Zhejiang) dials only B
#   and trusts A as an origin. The three `carehub serve` processes start together on empty B and C.
#   Every 100 ms the script reads B's and C's signed head of 310000 (sqlite3, read-only), and
#   prints when each reached 1%, 25%, 50%, 75% and 100% of A's log, and how far C trailed B.
# Baseline in the same run: B's own catch-up from the origin (C's extra time is the relay's cost).
#
# usage: bench/relay.sh [ROWS]      (default 200000)
# env:   CAREHUB=path/to/carehub (default: the Release build in build/release, built when missing)
#        BENCH_DIR=scratch directory (default: mktemp -d)
#        RELAY_MAX_BATCH=N: B pulls at most N entries a batch (serve --max-batch; default 20000).
#          B serves only up to the signed heads it holds, i.e. the ends of the batches it pulled
#          (the origin signs every 10000 entries), so this sets C's granularity.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rows=${1:-200000}
# shellcheck source=bench/common.sh
source "$root/bench/common.sh"
command -v sqlite3 >/dev/null || { echo "bench/relay: sqlite3 missing" >&2; exit 1; }

work=${BENCH_DIR:-$(mktemp -d)}
mkdir -p "$work"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  [ -n "${BENCH_DIR:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
rm -rf "$work/a" "$work/b" "$work/c"
"$carehub" init --dir "$work/a" --region sh >/dev/null
"$carehub" init --dir "$work/b" --region js --federation-key "$work/a/federation.key" >/dev/null
"$carehub" init --dir "$work/c" --region zj --federation-key "$work/a/federation.key" >/dev/null
"$carehub" gen --region sh --kind assessment --rows "$rows" --seed 1 --defect-rate 0 \
  --out "$work/sh.csv" >/dev/null 2>&1
"$carehub" ingest --dir "$work/a" --profile shanghai/assessment "$work/sh.csv" >/dev/null
head_a=$(sqlite3 "$work/a/carehub.db" "SELECT seq FROM heads WHERE origin = '310000'")
echo "A: $rows rows ingested, head seq $head_a; B pulls ${RELAY_MAX_BATCH:-20000} entries a batch"

key() { "$carehub" keys show --dir "$1" --json | python3 -c "import json,sys; print(json.load(sys.stdin)['$2'])"; }
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
member() {  # member HUB NAME REGION OF [ENDPOINT]
  "$carehub" peers add --dir "$1" --name "$2" --region "$3" --curve-key "$(key "$4" curve_public)" \
    --sign-key "$(key "$4" sign_public)" ${5:+--endpoint "$5"} >/dev/null
}
pa=$(port); pb=$(port); pc=$(port)
member "$work/a" b 320000 "$work/b"
member "$work/b" a 310000 "$work/a" "tcp://127.0.0.1:$pa"
member "$work/b" c 330000 "$work/c"
member "$work/c" b 320000 "$work/b" "tcp://127.0.0.1:$pb"
member "$work/c" a 310000 "$work/a"

seq_of() {
  sqlite3 -cmd ".timeout 2000" "file:$1/carehub.db?mode=ro" \
    "SELECT coalesce(max(seq), 0) FROM heads WHERE origin = '310000'" 2>/dev/null || echo 0
}
"$carehub" serve --dir "$work/a" --zmq "tcp://127.0.0.1:$pa" 2>"$work/a.log" & pids+=($!)
sleep 1
start=$(date +%s.%N)
"$carehub" serve --dir "$work/b" --zmq "tcp://127.0.0.1:$pb" ${RELAY_MAX_BATCH:+--max-batch "$RELAY_MAX_BATCH"} \
  2>"$work/b.log" & pids+=($!)
"$carehub" serve --dir "$work/c" --zmq "tcp://127.0.0.1:$pc" 2>"$work/c.log" & pids+=($!)
declare -A reached_b reached_c
marks=(1 25 50 75 100)
while :; do
  now=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.2f", e - s }')
  sb=$(seq_of "$work/b"); sc=$(seq_of "$work/c")
  for m in "${marks[@]}"; do
    want=$(( (head_a * m + 99) / 100 ))
    [ -z "${reached_b[$m]:-}" ] && [ "$sb" -ge "$want" ] && reached_b[$m]=$now
    [ -z "${reached_c[$m]:-}" ] && [ "$sc" -ge "$want" ] && reached_c[$m]=$now
  done
  [ -n "${reached_c[100]:-}" ] && break
  if awk -v n="$now" 'BEGIN { exit !(n > 1800) }'; then echo "bench/relay: no convergence in 30 min" >&2; exit 1; fi
  sleep 0.1
done
printf '%-6s %10s %10s %14s\n' "share" "B (s)" "C (s)" "C behind B (s)"
for m in "${marks[@]}"; do
  printf '%-6s %10s %10s %14s\n' "$m%" "${reached_b[$m]}" "${reached_c[$m]}" \
    "$(awk -v b="${reached_b[$m]}" -v c="${reached_c[$m]}" 'BEGIN { printf "%.2f", c - b }')"
done
echo "baseline (B's own catch-up from the origin): ${reached_b[100]} s; C through the relay: ${reached_c[100]} s"
