#!/usr/bin/env bash
# Removes everything deploy.sh created: the resource group (apps, environment, database, registry,
# storage, network, identity, vault). Key Vault keeps deleted vaults for its retention period;
# --purge also purges it so the name can be reused at once (the secrets are then gone for good).
# Usage: deploy/azure/teardown.sh [--dry-run] [--purge] [--yes]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=deploy/azure/common.sh
source "$here/common.sh"
purge=0
yes=0
args=()
for a in "$@"; do
  case "$a" in
    --purge) purge=1 ;;
    --yes) yes=1 ;;
    *) args+=("$a") ;;
  esac
done
parse_common_args "${args[@]+"${args[@]}"}"

if [ "$DRY_RUN" != 1 ] && [ "$yes" != 1 ]; then
  read -r -p "Delete resource group $RG and everything in it? Type its name: " answer
  [ "$answer" = "$RG" ] || { echo "teardown.sh: not confirmed" >&2; exit 1; }
fi
run az group delete --name "$RG" --yes
if [ "$purge" = 1 ]; then
  run az keyvault purge --name "$KV" --location "$LOCATION"
fi
echo "removed $RG" >&2
