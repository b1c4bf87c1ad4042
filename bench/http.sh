#!/usr/bin/env bash
# bench/http: the HTTP API under concurrent load (wrk, loopback, bounded runs) against its
# baseline measured on the same server in the same run:
#   1. a fresh Shanghai hub holding ROWS generated assessments (`carehub gen` + `carehub ingest`);
#   2. `carehub serve --http 127.0.0.1:0` (exchange and API in one process, as deployed);
#   3. wrk on GET /health (baseline: routing, auth-free, one trivial SQLite query),
#      GET /v1/records/{id} over 10,000 real ids picked at random (lua), and
#      POST /v1/recognitions over 1,000 real identifiers for target Zhuhai (lua).
# Prints requests/s and p99 latency of each and their ratio to /health; non-2xx answers are
# counted and make the script fail.
#
# usage: bench/http.sh [ROWS]      (default 200000)
# env:   CAREHUB=path/to/carehub (default: the Release build in build/release, built when missing)
#        DURATION=10s THREADS=2 CONNECTIONS=32 (wrk), HTTP_THREADS=16 (server)
#        BENCH_DIR=scratch directory (default: mktemp -d; ~300 MB per 200k rows)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rows=${1:-200000}
duration=${DURATION:-10s}
threads=${THREADS:-2}
connections=${CONNECTIONS:-32}
http_threads=${HTTP_THREADS:-16}

# shellcheck source=bench/common.sh
source "$root/bench/common.sh"
command -v wrk >/dev/null || { echo "bench/http: wrk missing (scripts/setup installs it)" >&2; exit 1; }
command -v sqlite3 >/dev/null || { echo "bench/http: sqlite3 missing" >&2; exit 1; }

work=${BENCH_DIR:-$(mktemp -d)}
mkdir -p "$work"
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then kill -TERM "$server_pid" 2>/dev/null || true; wait "$server_pid" || true; fi
  [ -n "${BENCH_DIR:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine: $(nproc) cores, $(awk '/model name/ { $1=$2=$3=""; print; exit }' /proc/cpuinfo | sed 's/^ *//'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "wrk: -t$threads -c$connections -d$duration; server threads $http_threads"

hub="$work/hub"
native="$work/sh_assessment.csv"
rm -rf "$hub"
"$carehub" init --dir "$hub" --region sh >/dev/null
"$carehub" gen --region sh --kind assessment --rows "$rows" --seed 1 --defect-rate 0 --out "$native" >/dev/null 2>&1
start=$(date +%s.%N)
"$carehub" ingest --dir "$hub" --profile shanghai/assessment "$native" >/dev/null
echo "hub: $rows generated rows ingested in $(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }') s"

token=$("$carehub" tokens create --dir "$hub" --role department --region sh 2>/dev/null)
sqlite3 "$hub/carehub.db" "SELECT record_id FROM records ORDER BY random() LIMIT 10000" >"$work/ids.txt"
# The identifier column (4th) of the native file; ASCII in every encoding.
awk -F, 'NR > 1 && NR <= 1001 { print $4 }' "$native" >"$work/identifiers.txt"

"$carehub" serve --dir "$hub" --zmq 'tcp://127.0.0.1:*' --http 127.0.0.1:0 \
  --http-threads "$http_threads" >"$work/serve.log" 2>&1 &
server_pid=$!
url=
for _ in $(seq 1 200); do
  url=$(sed -n 's/^http: \(http:[^ ]*\)$/\1/p' "$work/serve.log")
  [ -n "$url" ] && break
  sleep 0.05
done
[ -n "$url" ] || { echo "bench/http: the server did not start:" >&2; cat "$work/serve.log" >&2; exit 1; }
echo "server: $url"

cat >"$work/common.lua" <<'EOF'
local lines = function(path)
  local out = {}
  for line in io.lines(path) do out[#out + 1] = line end
  return out
end
ids = os.getenv("BENCH_IDS") and lines(os.getenv("BENCH_IDS")) or {}
people = os.getenv("BENCH_PEOPLE") and lines(os.getenv("BENCH_PEOPLE")) or {}
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
init = function(args) math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16)) end
done = function(summary, latency, requests)
  local bad = summary.errors.status + summary.errors.connect + summary.errors.read +
              summary.errors.write + summary.errors.timeout
  io.write(string.format("RESULT %.1f %.3f %d %d\n", summary.requests / (summary.duration / 1e6),
                         latency:percentile(99) / 1000, summary.requests, bad))
  if bad > 0 then
    io.write(string.format("ERRORS status=%d connect=%d read=%d write=%d timeout=%d\n",
                           summary.errors.status, summary.errors.connect, summary.errors.read,
                           summary.errors.write, summary.errors.timeout))
  end
end
EOF
cat >"$work/health.lua" <<EOF
dofile("$work/common.lua")
EOF
cat >"$work/record.lua" <<EOF
dofile("$work/common.lua")
request = function()
  return wrk.format("GET", "/v1/records/" .. ids[math.random(#ids)])
end
EOF
cat >"$work/recognition.lua" <<EOF
dofile("$work/common.lua")
wrk.headers["Content-Type"] = "application/json"
request = function()
  local body = '{"identifier":"' .. people[math.random(#people)] ..
               '","target":"440400","on":"2026-01-01"}'
  return wrk.format("POST", "/v1/recognitions", nil, body)
end
EOF

export BENCH_TOKEN=$token BENCH_IDS=$work/ids.txt BENCH_PEOPLE=$work/identifiers.txt
failed=0
declare -A rps p99
declare -A label=([health]="GET /health" [record]="GET /v1/records/{id}"
                  [recognition]="POST /v1/recognitions")
run() {  # script path
  local result total bad
  wrk -t"$threads" -c"$connections" -d"$duration" -s "$work/$1.lua" "${url%/}$2" >"$work/wrk_$1.txt"
  result=$(sed -n 's/^RESULT //p' "$work/wrk_$1.txt")
  grep '^ERRORS' "$work/wrk_$1.txt" || true
  read -r r p total bad <<<"$result"
  rps[$1]=$r
  p99[$1]=$p
  printf '%-24s %10s req/s   p99 %8s ms   (%s requests, %s errors)\n' "${label[$1]}" "$r" "$p" "$total" "$bad"
  [ "$bad" = 0 ] || failed=1
}
run health /health
run record /v1/records/
run recognition /v1/recognitions
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
for name in record recognition; do
  awk -v n="${label[$name]}" -v r="${rps[$name]}" -v b="${rps[health]}" -v p="${p99[$name]}" -v q="${p99[health]}" \
    'BEGIN { printf "%-24s %.2f x /health req/s, p99 %.1f x /health\n", n, r / b, (q > 0 ? p / q : 0) }'
done
exit $failed
