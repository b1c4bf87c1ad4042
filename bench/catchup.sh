#!/usr/bin/env bash
# bench/catchup: sync catch-up against the receiving hub's own ingest of the same records
# (issue 16: "sync catch-up of 1M and 5M records >= 1.0x the receiving hub's own ingest").
#   1. `carehub gen` ROWS Shanghai assessments (no defects, so every row is a record);
#   2. baseline: `carehub ingest` of that file into a fresh hub A (what B would do on its own);
#   3. `carehub serve` A; B (a fresh hub, A its member) runs `carehub sync --once`: CURVE, ZAP,
#      chain/hash/Ed25519 verification, apply — timed, with B's peak RSS (/usr/bin/time -v) and
#      its RSS at 1/4, 1/2, 3/4 of the run (sampled every 0.25 s: memory flat while catching up);
#   4. digests of A and B compared (the catch-up is complete and exact).
# Prints both times, records/s, the ratio ingest/sync (>= 1.0: catching up is at least as fast
# as ingesting), CPU (user+sys) of each and B's peak RSS beside A's, A's CPU while serving
# the catch-up (A and B share the machine's cores), and both exchange loops' longest step.
#
# usage: bench/catchup.sh [ROWS...]     (default 1000000; e.g. `bench/catchup.sh 1000000 5000000`)
# env:   CAREHUB=path/to/carehub (default: the Release build in build/release, built when missing)
#        BENCH_DIR=scratch directory (default: mktemp -d; ~1 GB per million rows)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rows_list=("${@:-1000000}")
# shellcheck source=bench/common.sh
source "$root/bench/common.sh"
[ -x /usr/bin/time ] || { echo "bench/catchup: /usr/bin/time missing (scripts/setup installs 'time')" >&2; exit 1; }

work=${BENCH_DIR:-$(mktemp -d)}
mkdir -p "$work"
server=""
cleanup() {
  if [ -n "$server" ]; then kill -TERM "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  [ -n "${BENCH_DIR:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

key() { "$carehub" keys show --dir "$1" --json | python3 -c "import json,sys; print(json.load(sys.stdin)['$2'])"; }
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
member() {  # member HUB NAME REGION OF [ENDPOINT]
  "$carehub" peers add --dir "$1" --name "$2" --region "$3" --curve-key "$(key "$4" curve_public)" \
    --sign-key "$(key "$4" sign_public)" ${5:+--endpoint "$5"} >/dev/null
}
digest() { "$carehub" digest --dir "$1" --origin 310000 | sed 's/^/  /'; }

echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "carehub: $carehub"
for rows in "${rows_list[@]}"; do
  rm -rf "$work/a" "$work/b"
  "$carehub" init --dir "$work/a" --region sh >/dev/null
  "$carehub" init --dir "$work/b" --region js --federation-key "$work/a/federation.key" >/dev/null
  "$carehub" gen --region sh --kind assessment --rows "$rows" --seed 1 --defect-rate 0 \
    --out "$work/sh.csv" >/dev/null 2>&1
  echo "== $rows rows (load average $(cut -d' ' -f1-3 /proc/loadavg))"
  timed "$carehub" ingest --dir "$work/a" --profile shanghai/assessment "$work/sh.csv"
  ingest_secs=$secs ingest_cpu=$cpu ingest_rss=$rss_mb
  records=$(sqlite3 "file:$work/a/carehub.db?mode=ro" "SELECT seq FROM heads WHERE origin = '310000'")
  printf 'ingest into a fresh hub (baseline): %8.2f s %9s records/s  cpu %7s s  peak RSS %5s MB\n' \
    "$ingest_secs" "$(rate "$records" "$ingest_secs")" "$ingest_cpu" "$ingest_rss"

  pa=$(port)
  member "$work/a" b 320000 "$work/b"
  member "$work/b" a 310000 "$work/a" "tcp://127.0.0.1:$pa"
  "$carehub" serve --dir "$work/a" --zmq "tcp://127.0.0.1:$pa" >"$work/a.out" 2>"$work/a.log" & server=$!
  sleep 1
  serve_ticks=$(awk '{ print $14 + $15 }' "/proc/$server/stat")
  : >"$work/b_rss.txt"
  rss_curve "$carehub sync --dir $work/b" "$work/b_rss.txt" & sampler=$!
  timed "$carehub" sync --dir "$work/b" --once --timeout 7200
  wait "$sampler" || true
  sync_secs=$secs sync_cpu=$cpu sync_rss=$rss_mb
  # A's serving shares the machine's cores with B: its CPU (user+sys) during the catch-up.
  serve_cpu=$(awk -v t0="$serve_ticks" -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15 - t0) / hz }' "/proc/$server/stat")
  kill -TERM "$server"; wait "$server" 2>/dev/null || true; server=""
  printf 'sync catch-up of B from A:          %8.2f s %9s records/s  cpu %7s s  peak RSS %5s MB\n' \
    "$sync_secs" "$(rate "$records" "$sync_secs")" "$sync_cpu" "$sync_rss"
  echo "  A serving it: cpu $serve_cpu s"
  # Memory flat while catching up: B's RSS at a quarter, half and three quarters of the run
  # (the end's index build included in the peak).
  echo "  B's RSS over the catch-up: $(rss_quarters "$work/b_rss.txt")"
  # Batches applied and group commits of B (fewer commits: fewer rewrites of the index pages).
  grep '^batches=' "$work/out.txt" | sed 's/^/  B: /' || true
  # The exchange loops' longest step (what a member waits for an answer beyond the network) and
  # time per part: B pulling, A serving (docs/PROTOCOL.md "Flow, notification, liveness").
  grep '^loop:' "$work/out.txt" | sed 's/^/  B /' || true
  grep '^loop:' "$work/a.out" | sed 's/^/  A /' || true
  echo "ratio ingest/sync: $(awk -v i="$ingest_secs" -v s="$sync_secs" 'BEGIN { printf "%.2f", (s > 0 ? i / s : 0) }') (target >= 1.0)"
  da=$(digest "$work/a"); db=$(digest "$work/b")
  if [ "$da" = "$db" ]; then echo "digests equal"; else echo "digests DIFFER"; echo "$da"; echo "$db"; exit 1; fi
  echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
done
