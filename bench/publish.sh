#!/usr/bin/env bash
# bench/publish: `carehub publish` over ~1M (or SCALE x 1M) records against its baseline measured
# in the same run, and the accuracy of the published tables (bench_publish_accuracy).
#   1. `carehub gen` native files of several regions and kinds (CSV/GBK, JSON, NDJSON, XML) and
#      `carehub ingest` them all into one fresh hub (the hub's own records, many prefectures);
#   2. baseline: `sqlite3` running the closest aggregate SQL can do on the same store without
#      decoding the Avro bodies — one scan of the records table, GROUP BY kind, origin,
#      pivot_level and 91-day buckets of effective_on, non-retracted rows, count(*);
#   3. `carehub publish` of the hub into a fresh folder (reads from every body only the fields
#      the tables use, five research tables with contribution bounding, discrete Gaussian noise
#      and post-processing, CSV + Avro + codebook + DCAT-AP catalog with SHA-256), twice: cold,
#      and again into the same folder (same data: no budget spent, recomputed and compared with
#      the identical release);
#   4. bench_publish_accuracy: published vs true counts over 3 fresh noise keys.
# Prints seconds and records/s of each, the throughput ratio publish/baseline and peak RSS.
#
# usage: bench/publish.sh [SCALE]   (default 1: ~1M records; 5 gives ~5M; 0.05 ~ demo size)
# env:   CAREHUB=path/to/carehub (default: a Release build in build/release, built when missing)
#        BENCH_DIR=scratch directory (default: mktemp -d; needs ~1.5 GB per million records)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
scale=${1:-1}

# shellcheck source=bench/common.sh
source "$root/bench/common.sh"
[ -x /usr/bin/time ] || { echo "bench/publish: /usr/bin/time missing (scripts/setup installs 'time')" >&2; exit 1; }

work=${BENCH_DIR:-$(mktemp -d)}
mkdir -p "$work"
cleanup() { [ -n "${BENCH_DIR:-}" ] || rm -rf "$work"; }
trap cleanup EXIT


# region kind rows (at scale 1): 1,000,000 rows, ~2% of them quarantined by injected defects.
plan=(
  "sh assessment 300000" "gd assessment 200000" "js assessment 100000" "zj assessment 50000"
  "sh caregiver 100000" "gd caregiver 50000" "mo caregiver 50000"
  "ah facility 50000" "hk facility 30000"
  "sh sanction 40000" "gd sanction 30000"
)

echo "machine: $(nproc) cores, $(awk '/model name/ { $1=$2=$3=""; print; exit }' /proc/cpuinfo | sed 's/^ *//')"
echo "carehub: $carehub"
"$carehub" init --dir "$work/hub" --region gd >/dev/null
files=()
seed=1
for item in "${plan[@]}"; do
  read -r region kind rows <<<"$item"
  rows=$(awk -v r="$rows" -v s="$scale" 'BEGIN { printf "%d", r * s }')
  f="$work/${region}_${kind}.native"
  "$carehub" gen --region "$region" --kind "$kind" --rows "$rows" --seed "$seed" --out "$f" 2>/dev/null
  files+=("$f")
  seed=$((seed + 1))
done
timed "$carehub" ingest --dir "$work/hub" "${files[@]}"
rm -f "${files[@]}" "$work"/*.expected.json
records=$(sqlite3 "$work/hub/carehub.db" "SELECT count(*) FROM records WHERE status != 'RETRACTED'")
echo "hub: $records records ingested in ${secs}s ($(rate "$records" "$secs") rows/s), $(du -m "$work/hub/carehub.db" | cut -f1) MB"
sqlite3 "$work/hub/carehub.db" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null

sql="SELECT kind, origin, pivot_level, (effective_on + 719468) / 91 AS q, count(*) FROM records
     WHERE status != 'RETRACTED' GROUP BY kind, origin, pivot_level, q"
cat "$work/hub/carehub.db" >/dev/null  # warm the page cache for both
timed sqlite3 "$work/hub/carehub.db" "$sql"
base_secs=$secs
base_cpu=$cpu
echo "baseline sqlite3 GROUP BY: ${secs}s (CPU ${cpu}s)  $(rate "$records" "$secs") records/s  $(wc -l <"$work/out.txt") groups  peak RSS ${rss_mb} MB"

timed "$carehub" publish --dir "$work/hub" --out "$work/open" --base-url https://data.example.org/gd
echo "carehub publish          : ${secs}s (CPU ${cpu}s)  $(rate "$records" "$secs") records/s  peak RSS ${rss_mb} MB"
echo "  $(tail -1 "$work/err.txt")"
echo "  $(find "$work/open" -type f | wc -l) files, $(du -sk "$work/open" | cut -f1) KiB"
echo "throughput publish/baseline: $(awk -v a="$secs" -v b="$base_secs" 'BEGIN { printf "%.2f", b / a }')x wall, $(awk -v a="$cpu" -v b="$base_cpu" 'BEGIN { printf "%.2f", b / a }')x CPU (target >= 0.5x)"
timed "$carehub" publish --dir "$work/hub" --out "$work/open" --base-url https://data.example.org/gd
echo "carehub publish (again, same data: no budget spent, identical release verified): ${secs}s (CPU ${cpu}s)"
accuracy="$(dirname "$carehub")/../bench/bench_publish_accuracy"
if [ -z "${CAREHUB:-}" ]; then
  cmake --build "$root/build/release" --target bench_publish_accuracy -j "${CAREHUB_JOBS:-2}" >/dev/null
fi
if [ -x "$accuracy" ]; then
  echo "accuracy (bench_publish_accuracy, published vs true bounded counts):"
  "$accuracy" --dir "$work/hub" --trials 3
fi
