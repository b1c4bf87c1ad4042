# Sourced by the bench/*.sh scripts: sets $carehub to the binary under test, $CAREHUB when given,
# else the Release build in build/release (configured when missing, brought up to date with
# `cmake --build --target carehub`). Expects $root (the repository) to be set.
carehub=${CAREHUB:-}
if [ -z "$carehub" ]; then
  build="$root/build/release"
  if [ ! -x "$build/cli/carehub" ]; then
    cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  fi
  cmake --build "$build" --target carehub -j "${CAREHUB_JOBS:-2}" >/dev/null
  carehub="$build/cli/carehub"
fi

# Runs a command under /usr/bin/time -v with its stdout in $work/out.txt and its stderr in
# $work/err.txt; sets $secs (wall), $cpu (user + system) and $rss_mb (peak RSS). The machine is
# shared, so CPU seconds are the steadier number. On failure the command's last stderr lines are
# shown and the status is returned. Expects $work (the scratch directory) to be set.
timed() {
  local log="$work/time.log" wall
  if ! /usr/bin/time -v -o "$log" "$@" >"$work/out.txt" 2>"$work/err.txt"; then
    echo "bench: failed: $*" >&2
    tail -5 "$work/err.txt" >&2
    return 1
  fi
  wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$log")
  secs=$(echo "$wall" | awk -F: '{ if (NF == 3) print $1*3600 + $2*60 + $3; else print $1*60 + $2 }')
  cpu=$(awk '/User time|System time/ { s += $NF } END { printf "%.2f", s }' "$log")
  rss_mb=$(awk '/Maximum resident set size/ { printf "%.0f", $6 / 1024 }' "$log")
}

# rate N SECONDS: N per second, rounded.
rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", (s > 0 ? n / s : 0) }'; }

# rss_curve PATTERN FILE: appends the VmRSS (MB) of the process whose command line starts with
# PATTERN (waited for up to 20 s) to FILE every 0.25 s while it runs. Run in the background
# beside `timed`; rss_quarters FILE then says whether the memory stayed flat.
rss_curve() {
  local pid="" i
  for i in $(seq 400); do pid=$(pgrep -f "^$1" | head -1) && [ -n "$pid" ] && break; sleep 0.05; done
  [ -n "$pid" ] || return 0
  while kill -0 "$pid" 2>/dev/null; do
    awk '/^VmRSS/ { print int($2 / 1024) }' "/proc/$pid/status" >>"$2" 2>/dev/null || true
    sleep 0.25
  done
}
# rss_quarters FILE: the samples at 1/4, 1/2 and 3/4 of the run and the largest, in MB.
rss_quarters() {
  awk '{ v[NR] = $1; if ($1 > m) m = $1 } END { if (NR) printf "%d / %d / %d MB, peak %d MB", v[int(NR / 4) + 1], v[int(NR / 2) + 1], v[int(3 * NR / 4) + 1], m }' "$1"
}
