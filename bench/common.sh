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
