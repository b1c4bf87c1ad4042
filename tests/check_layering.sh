#!/usr/bin/env bash
# Fails when a library includes a header of a folder above it, or when a source file sits at
# hub/'s top level (see docs/ARCHITECTURE.md, "Dependencies").
#   schemas <- {connectors, mapping} <- hub/store <- {hub/exchange, hub/publish} <- hub/http <- cli
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
check hub/store hub/exchange hub/publish hub/http cli
check hub/exchange hub/publish hub/http cli
check hub/publish hub/exchange hub/http cli
check hub/http cli
# Every hub source belongs to a subsystem folder.
loose=$(find "$root/hub" -maxdepth 1 -type f \( -name '*.h' -o -name '*.cc' \))
if [ -n "$loose" ]; then echo "hub/ top level must hold no sources:"; echo "$loose"; status=1; fi
# Every hub subsystem folder is covered by a rule above (a new folder needs its own line).
for d in "$root"/hub/*/; do
  name=$(basename "$d")
  case $name in store|exchange|publish|http) ;; *) echo "hub/$name is not in check_layering.sh"; status=1 ;; esac
done
[ $status -eq 0 ] && echo "layering ok"
exit $status
