#!/usr/bin/env bash
# bench/ingest: carehub ingest against its baseline measured in the same run.
#   1. `carehub gen` a Shanghai assessment file (native: GBK CSV, Chinese headers) of N rows;
#   2. baseline: `sqlite3 .import` of the same rows (UTF-8 copy made with iconv) into a plain
#      table of a fresh database file;
#   3. `carehub ingest` of the native file into a fresh hub (validation, person tokens, Avro
#      encoding, content hashes, indexes, change log, signed heads);
#   4. `carehub export --format avro` of the ingested records.
# Prints rows/s of each, the ratio ingest/import and peak RSS (/usr/bin/time -v).
#
# usage: bench/ingest.sh [ROWS...]        (default: 1000000; e.g. `bench/ingest.sh 1000000 5000000`)
# env:   CAREHUB=path/to/carehub (default: a Release build in build/release, built when missing)
#        BENCH_DIR=scratch directory (default: mktemp -d; needs ~1.5 GB per million rows)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rows_list=("${@:-1000000}")

# shellcheck source=bench/common.sh
source "$root/bench/common.sh"
[ -x /usr/bin/time ] || { echo "bench/ingest: /usr/bin/time missing (scripts/setup installs 'time')" >&2; exit 1; }

work=${BENCH_DIR:-$(mktemp -d)}
mkdir -p "$work"
cleanup() { [ -n "${BENCH_DIR:-}" ] || rm -rf "$work"; }
trap cleanup EXIT

# Runs a command under /usr/bin/time -v; sets $secs (wall) and $rss_mb (peak RSS).
timed() {
  local log="$work/time.log"
  /usr/bin/time -v -o "$log" "$@" >"$work/out.txt"
  local wall
  wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$log")
  secs=$(echo "$wall" | awk -F: '{ if (NF == 3) print $1*3600 + $2*60 + $3; else print $1*60 + $2 }')
  rss_mb=$(awk '/Maximum resident set size/ { printf "%.0f", $6 / 1024 }' "$log")
}
rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", (s > 0 ? n / s : 0) }'; }

echo "machine: $(nproc) cores, $(awk '/model name/ { $1=$2=$3=""; print; exit }' /proc/cpuinfo | sed 's/^ *//')"
echo "carehub: $carehub"
for rows in "${rows_list[@]}"; do
  native="$work/sh_assessment_$rows.csv"
  utf8="$work/sh_assessment_$rows.utf8.csv"
  "$carehub" gen --region sh --kind assessment --rows "$rows" --seed 1 --out "$native" >/dev/null
  iconv -c -f GB18030 -t UTF-8 "$native" >"$utf8" || true  # -c: drops the bytes of the injected undecodable-row defects
  echo "== $rows rows ($(du -m "$native" | cut -f1) MB native)"

  rm -f "$work/import.db"
  timed sqlite3 "$work/import.db" ".import --csv $utf8 assessment" 2>"$work/import.err"
  import_secs=$secs
  import_rate=$(rate "$rows" "$secs")
  echo "sqlite3 .import : ${secs}s  $import_rate rows/s  peak RSS ${rss_mb} MB  ($(wc -l <"$work/import.err") short rows filled with NULL)"

  rm -rf "$work/hub"
  "$carehub" init --dir "$work/hub" --region sh >/dev/null
  timed "$carehub" ingest --dir "$work/hub" --profile shanghai/assessment "$native"
  ingest_rate=$(rate "$rows" "$secs")
  echo "carehub ingest  : ${secs}s  $ingest_rate rows/s  peak RSS ${rss_mb} MB  ($(tail -1 "$work/out.txt"))"
  echo "ratio ingest/import: $(awk -v a="$import_secs" -v b="$secs" 'BEGIN { printf "%.2f", a / b }')x"

  # Second reference, the store floor: SQL alone writing rows of the same shapes and sizes as
  # an ingest does (records, changes, record_persons with random keys), in 50000-row
  # transactions, no parsing or validation at all.
  rm -rf "$work/floor"
  "$carehub" init --dir "$work/floor" --region sh >/dev/null
  body=$(sqlite3 "$work/hub/carehub.db" 'SELECT CAST(avg(length(body)) AS INT) FROM records')
  {
    echo "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-65536;"
    for ((start = 1; start <= rows; start += 50000)); do
      end=$((start + 49999 < rows ? start + 49999 : rows))
      echo "BEGIN;"
      echo "INSERT INTO records SELECT lower(hex(randomblob(16))), random(), 'assessment', '310000', 1, 'ACTIVE', NULL, 2, 19000, 19700, value, 1, randomblob(32), randomblob($body) FROM generate_series($start, $end);"
      echo "INSERT INTO changes SELECT '310000', value, lower(hex(randomblob(16))), 1, 1, randomblob(32), randomblob(32), randomblob(32), randomblob($body) FROM generate_series($start, $end);"
      echo "INSERT INTO record_persons SELECT random(), random() FROM generate_series($start, $end);"
      echo "COMMIT;"
    done
  } >"$work/floor.sql"
  timed sqlite3 "$work/floor/carehub.db" ".read $work/floor.sql"
  echo "store floor (SQL only, same rows): ${secs}s  $(rate "$rows" "$secs") rows/s"
  rm -rf "$work/floor" "$work/floor.sql"

  for codec in null deflate; do
    if ! timed "$carehub" export --dir "$work/hub" --kind assessment --format avro \
      --codec "$codec" --out "$work/export.avro"; then
      echo "export avro ($codec): failed"
      continue
    fi
    records=$(sed -n 's/.*records=\([0-9]*\).*/\1/p' "$work/out.txt")
    echo "export avro ($codec): ${secs}s  $(rate "$records" "$secs") records/s  $(du -m "$work/export.avro" | cut -f1) MB  peak RSS ${rss_mb} MB"
  done
  rm -f "$native" "$utf8" "$work/import.db" "$work/export.avro"
done
