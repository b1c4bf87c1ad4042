#!/usr/bin/env bash
# bench/ingest: carehub ingest against its baseline measured in the same run.
#   1. `carehub gen` a Shanghai assessment file (native: GBK CSV, Chinese headers) of N rows;
#   2. baseline: `sqlite3 .import` of the same rows (UTF-8 copy made with iconv) into a plain
#      table of a fresh database file;
#   3. `carehub ingest` of the native file into a fresh hub (validation, person tokens, Avro
#      encoding, content hashes, indexes, change log, signed heads);
#   4. `carehub export --format avro` of the ingested records.
#   Peer (the loader a department would otherwise choose): PostgreSQL 15 `COPY` (psql \copy) of
#   the same rows, cleaned of the defect rows COPY cannot take (wrong field count, repeated
#   source ids, undecodable bytes), into a table with a primary key on the source id and indexes
#   on the person column and the status column, in a throw-away cluster the script starts on its
#   own port and socket directory and stops at the end. `sqlite3 .import` stays as a second
#   reference, plain and into the same indexed table.
# Prints rows/s of each, the ratios ingest/COPY and ingest/import and peak RSS (/usr/bin/time -v).
#
# usage: bench/ingest.sh [ROWS...]        (default: 1000000; e.g. `bench/ingest.sh 1000000 5000000`)
# env:   CAREHUB=path/to/carehub (default: a Release build in build/release, built when missing)
#        CAREHUB_BEFORE=path/to/an older carehub: its ingest of the same rows, in the same run
#        BENCH_DIR=scratch directory (default: mktemp -d; needs ~1.5 GB per million rows)
#        BENCH_ROUNDS=N: COPY and `carehub ingest` run N times, alternating, and the median of
#          the N ratios is printed (default 1). The machine's speed drifts (the peers moved by
#          1.6x between two runs of one morning), so a claim about the ratio wants N >= 3.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rows_list=("${@:-1000000}")

# shellcheck source=bench/common.sh
source "$root/bench/common.sh"
[ -x /usr/bin/time ] || { echo "bench/ingest: /usr/bin/time missing (scripts/setup installs 'time')" >&2; exit 1; }

work=${BENCH_DIR:-$(mktemp -d)}
mkdir -p "$work"
pg_root=$(mktemp -d)  # the PostgreSQL cluster: its own directory, owned by postgres when root
pg_bin=/usr/lib/postgresql/15/bin
pg_port=${BENCH_PG_PORT:-54329}
cleanup() {
  [ -f "$pg_root/data/postmaster.pid" ] && as_pg "$pg_bin/pg_ctl" -D "$pg_root/data" -m fast stop >/dev/null 2>&1
  rm -rf "$pg_root"
  [ -n "${BENCH_DIR:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
# PostgreSQL refuses to run as root: as root, the cluster belongs to the postgres user.
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
start_postgres() {
  [ -x "$pg_bin/initdb" ] || { echo "bench/ingest: PostgreSQL 15 missing (scripts/setup installs postgresql-15)" >&2; exit 1; }
  chmod 755 "$pg_root"
  [ "$(id -u)" -eq 0 ] && chown postgres "$pg_root"
  as_pg "$pg_bin/initdb" -D "$pg_root/data" -U bench --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
  as_pg "$pg_bin/pg_ctl" -D "$pg_root/data" -l "$pg_root/log" -w \
    -o "-p $pg_port -k $pg_root -c listen_addresses=''" start >/dev/null
}
pg_args=(-X -q -v ON_ERROR_STOP=1 -h "$pg_root" -p "$pg_port" -U bench -d postgres)
pg() { psql "${pg_args[@]}" "$@"; }
# The rows COPY can take: 12 fields, a source id, each source id once, no NUL; the header stays.
clean_for_copy() { tr -d '\000' <"$1" | awk -F, 'NF == 12 && $1 != "" && !seen[$1]++' >"$2"; }
# COPY of $clean into a fresh indexed table; sets $copy_secs.
copy_once() {
  pg -c "SET client_min_messages = warning; DROP TABLE IF EXISTS assessment; CREATE TABLE assessment($columns);
    CREATE INDEX assessment_person ON assessment(person_id);
    CREATE INDEX assessment_status ON assessment(status);"
  timed psql "${pg_args[@]}" -c "\\copy assessment FROM '$clean' WITH (FORMAT csv, HEADER true)"
  copy_secs=$secs
  echo "postgresql COPY, indexed table: ${secs}s  $(rate "$clean_rows" "$secs") rows/s  ($clean_rows clean rows; server RSS not counted)"
  pg -c "DROP TABLE assessment;"
}
# `carehub ingest` of $native into a fresh hub $work/hub; sets $secs.
ingest_once() {
  rm -rf "$work/hub"
  "$carehub" init --dir "$work/hub" --region sh >/dev/null
  timed "$carehub" ingest --dir "$work/hub" --profile shanghai/assessment "$native"
  echo "carehub ingest  : ${secs}s  $(rate "$rows" "$secs") rows/s  cpu ${cpu}s  peak RSS ${rss_mb} MB  ($(tail -1 "$work/out.txt"))"
}
# Ratio of rates, carehub's rows/s over COPY's rows/s on the rows each could take (last runs).
copy_ratio() { awk -v n="$rows" -v s="$secs" -v c="$clean_rows" -v p="$copy_secs" 'BEGIN { printf "%.2f", (n / s) / (c / p) }'; }


echo "machine: $(nproc) cores, $(awk '/model name/ { $1=$2=$3=""; print; exit }' /proc/cpuinfo | sed 's/^ *//')"
echo "carehub: $carehub"
start_postgres
echo "postgresql: $(pg -tA -c 'SHOW server_version') (port $pg_port, default settings)"
for rows in "${rows_list[@]}"; do
  native="$work/sh_assessment_$rows.csv"
  utf8="$work/sh_assessment_$rows.utf8.csv"
  "$carehub" gen --region sh --kind assessment --rows "$rows" --seed 1 --out "$native" >/dev/null
  iconv -c -f GB18030 -t UTF-8 "$native" >"$utf8" || true  # -c: drops the bytes of the injected undecodable-row defects
  echo "== $rows rows ($(du -m "$native" | cut -f1) MB native)"

  rm -f "$work/import.db"
  timed sqlite3 "$work/import.db" ".import --csv $utf8 assessment"
  import_secs=$secs
  import_rate=$(rate "$rows" "$secs")
  echo "sqlite3 .import : ${secs}s  $import_rate rows/s  peak RSS ${rss_mb} MB  ($(wc -l <"$work/err.txt") short rows filled with NULL)"

  clean="$work/sh_assessment_$rows.clean.csv"
  clean_for_copy "$utf8" "$clean"
  chmod 644 "$clean"
  clean_rows=$(($(wc -l <"$clean") - 1))
  columns='id text PRIMARY KEY, name text, sex text, person_id text, district text, level text,
           assessed_on text, valid_until text, org_uscc text, org_name text, org_district text,
           status text'
  rm -f "$work/indexed.db"
  sqlite3 "$work/indexed.db" "CREATE TABLE assessment($columns);
    CREATE INDEX assessment_person ON assessment(person_id);
    CREATE INDEX assessment_status ON assessment(status);"
  timed sqlite3 "$work/indexed.db" ".import --csv --skip 1 $clean assessment"
  indexed_import_secs=$secs
  echo "sqlite3 .import, indexed table: ${secs}s  $(rate "$clean_rows" "$secs") rows/s  ($clean_rows clean rows)"
  rm -f "$work/indexed.db"

  copy_once

  # The binary before a change (CAREHUB_BEFORE), same rows, same run: the "before" column.
  if [ -n "${CAREHUB_BEFORE:-}" ]; then
    rm -rf "$work/hub_before"
    "$CAREHUB_BEFORE" init --dir "$work/hub_before" --region sh >/dev/null
    timed "$CAREHUB_BEFORE" ingest --dir "$work/hub_before" --profile shanghai/assessment "$native"
    echo "before: carehub ingest ($CAREHUB_BEFORE): ${secs}s  $(rate "$rows" "$secs") rows/s  peak RSS ${rss_mb} MB  $(($(stat -c %s "$work/hub_before/carehub.db") / rows)) bytes/record on disk"
    echo "before: ratio ingest/COPY (indexed): $(awk -v n="$rows" -v s="$secs" -v c="$clean_rows" -v p="$copy_secs" 'BEGIN { printf "%.2f", (n / s) / (c / p) }')x"
    rm -rf "$work/hub_before"
  fi

  ingest_once
  ratios=("$(copy_ratio)")
  echo "ratio ingest/COPY (indexed): ${ratios[-1]}x"
  for ((round = 2; round <= ${BENCH_ROUNDS:-1}; round++)); do
    echo "-- round $round (load average $(cut -d' ' -f1 /proc/loadavg))"
    copy_once
    ingest_once
    ratios+=("$(copy_ratio)")
    echo "ratio ingest/COPY (indexed): ${ratios[-1]}x"
  done
  if [ "${#ratios[@]}" -gt 1 ]; then
    echo "ratio ingest/COPY (indexed), median of ${#ratios[@]} alternating rounds: $(printf '%s\n' "${ratios[@]}" | sort -n | awk '{ r[NR] = $1 } END { print r[int((NR + 1) / 2)] }')x  (rounds: ${ratios[*]})"
  fi
  echo "ratio ingest/.import (indexed): $(awk -v n="$rows" -v s="$secs" -v c="$clean_rows" -v p="$indexed_import_secs" 'BEGIN { printf "%.2f", (n / s) / (c / p) }')x"
  echo "ratio ingest/import (plain): $(awk -v a="$import_secs" -v b="$secs" 'BEGIN { printf "%.2f", a / b }')x"

  # Second reference, the store floor: SQL alone writing rows of the same shapes and sizes as
  # an ingest does (records with the lookup columns, changes with the body, which is stored
  # once since issue 16, record_persons with random keys), in 50000-row transactions, no
  # parsing or validation at all.
  body=$(sqlite3 "$work/hub/carehub.db" 'SELECT CAST(avg(length(body)) AS INT) FROM changes')
  rm -rf "$work/floor"
  "$carehub" init --dir "$work/floor" --region sh >/dev/null
  {
    echo "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-65536;"
    for ((start = 1; start <= rows; start += 50000)); do
      end=$((start + 49999 < rows ? start + 49999 : rows))
      echo "BEGIN;"
      echo "INSERT INTO records SELECT lower(hex(randomblob(16))), random(), 'assessment', '310000', 1, 'ACTIVE', NULL, 2, 19000, 19700, value, 1, randomblob(32) FROM generate_series($start, $end);"
      echo "INSERT INTO changes(origin, seq, record_id, op, version, entry_hash, body) SELECT '310000', value, lower(hex(randomblob(16))), 1, 1, randomblob(32), randomblob($body) FROM generate_series($start, $end);"
      echo "INSERT INTO record_persons SELECT random(), random() FROM generate_series($start, $end);"
      echo "COMMIT;"
    done
  } >"$work/floor.sql"
  timed sqlite3 "$work/floor/carehub.db" ".read $work/floor.sql"
  floor_bytes=$(stat -c %s "$work/floor/carehub.db")
  echo "store floor (SQL only, same rows, body once): ${secs}s  $(rate "$rows" "$secs") rows/s  $((floor_bytes / rows)) bytes/record on disk"
  echo "carehub hub: $(($(stat -c %s "$work/hub/carehub.db") / rows)) bytes/record on disk"
  # Bodies at rest (issue 16): compressed with the schema's zstd dictionary, or raw.
  sqlite3 "$work/hub/carehub.db" "SELECT 'stored bodies: ' || CAST(avg(length(body)) AS INT) || ' bytes avg, ' || sum(dict IS NOT NULL) || ' of ' || count(*) || ' compressed' FROM changes"
  # Where those bytes are: pages of each table and index (dbstat), per input row.
  sqlite3 "$work/hub/carehub.db" "SELECT '  ' || name || ': ' || (sum(pgsize) / $rows) || ' bytes/record' FROM dbstat GROUP BY name HAVING sum(pgsize) > 1048576 ORDER BY sum(pgsize) DESC"
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
  rm -f "$native" "$utf8" "$clean" "$work/import.db" "$work/export.avro"
done
