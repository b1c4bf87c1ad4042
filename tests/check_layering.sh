#!/usr/bin/env bash
# Fails when a library includes a header of a folder above it (see docs/ARCHITECTURE.md).
set -u
root=$1
status=0
check() {  # folder, forbidden folders...
  local folder=$1; shift
  for forbidden in "$@"; do
    hits=$(grep -rn --include='*.h' --include='*.cc' "#include \"$forbidden/" "$root/$folder" 2>/dev/null)
    if [ -n "$hits" ]; then echo "$folder must not include $forbidden/:"; echo "$hits"; status=1; fi
  done
}
check schemas connectors mapping hub cli
check connectors mapping hub cli
check mapping connectors hub cli
check hub cli
[ $status -eq 0 ] && echo "layering ok"
exit $status
