#!/usr/bin/env bash
# Proves that check_layering.sh fails when it should: on a copy of the source tree it passes, then
# fails on a planted reverse include (store -> http), a sideways one (publish -> exchange) and a
# source file at hub/'s top level.
set -u
root=$1
check=$(dirname "$0")/check_layering.sh
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fresh_copy() {
  rm -rf "$work/tree" && mkdir -p "$work/tree"
  cp -r "$root"/schemas "$root"/connectors "$root"/mapping "$root"/hub "$root"/cli "$work/tree/"
}
expect() {  # expected status (0 pass, 1 fail), description
  bash "$check" "$work/tree" >"$work/out" 2>&1
  local got=$?
  if [ "$got" -ne "$1" ]; then echo "FAIL: $2 (status $got)"; cat "$work/out"; exit 1; fi
  echo "ok: $2"
}
fresh_copy
expect 0 "the real tree passes"
echo '#include "hub/http/router.h"' >>"$work/tree/hub/store/store.cc"
expect 1 "store including http is refused"
fresh_copy
echo '#include "hub/exchange/wire.h"' >>"$work/tree/hub/publish/publish.cc"
expect 1 "publish including exchange is refused"
fresh_copy
echo '#include "cli/command.h"' >>"$work/tree/hub/http/routes.cc"
expect 1 "http including cli is refused"
fresh_copy
touch "$work/tree/hub/loose.cc"
expect 1 "a source at hub/ top level is refused"
fresh_copy
mkdir -p "$work/tree/hub/newpart" && touch "$work/tree/hub/newpart/x.cc"
expect 1 "an unknown hub/ folder is refused"
