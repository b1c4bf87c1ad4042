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
