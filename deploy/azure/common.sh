# Shared by deploy.sh and teardown.sh (sourced). Settings come from the environment:
#   PARLEY_RG (parley-rg)  PARLEY_LOCATION (westeurope)  PARLEY_NAME (parley: prefix of every
#   resource; registry, vault and storage names drop the dashes)  PARLEY_TAG (image tag, default
#   the git commit)  PARLEY_DOMAIN (custom domain for the UI, optional)  PARLEY_MODEL_FILE (local
#   GGUF to upload to the model share, optional)  PARLEY_MODEL_NAME (file name on the share)
# --dry-run prints every command instead of running it. Secret values never reach the output:
# every value registered with `mask` is replaced by <redacted> in anything printed.
# shellcheck shell=bash disable=SC2034  # the settings are used by the scripts that source this file

RG=${PARLEY_RG:-parley-rg}
LOCATION=${PARLEY_LOCATION:-westeurope}
NAME=${PARLEY_NAME:-parley}
FLAT=${NAME//-/}
ACR=${PARLEY_ACR:-${FLAT}acr}
KV=${PARLEY_KEYVAULT:-${FLAT}kv}
STORAGE=${PARLEY_STORAGE:-${FLAT}models}
PG=${PARLEY_PG:-${NAME}-pg}
ENV_NAME=${NAME}-env
VNET=${NAME}-vnet
IDENTITY=${NAME}-id
DRY_RUN=0
MASKED=()

mask() { [ -n "$1" ] && MASKED+=("$1"); return 0; }

redact() {
  local text="$1" s
  for s in "${MASKED[@]+"${MASKED[@]}"}"; do text=${text//"$s"/<redacted>}; done
  printf '%s' "$text"
}

show_command() {
  local line
  line=$(printf '%q ' "$@")
  printf '+ %s\n' "$(redact "${line% }")" >&2
}

# run CMD...: runs (or, with --dry-run, only prints) a command; its output is redacted.
run() {
  show_command "$@"
  [ "$DRY_RUN" = 1 ] && return 0
  local out rc=0
  out=$("$@" 2>&1) || rc=$?
  [ -n "$out" ] && printf '%s\n' "$(redact "$out")" >&2
  return "$rc"
}

# value PLACEHOLDER CMD...: prints the command and echoes its output (a resource id, a URL...);
# with --dry-run echoes <PLACEHOLDER> instead.
value() {
  local placeholder=$1
  shift
  show_command "$@"
  if [ "$DRY_RUN" = 1 ]; then printf '<%s>\n' "$placeholder"; return 0; fi
  "$@"
}

# secret_value CMD...: like value, but the result is a secret: never printed, masked from now on.
secret_value() {
  show_command "$@"
  if [ "$DRY_RUN" = 1 ]; then printf '<secret>\n'; return 0; fi
  "$@"
}

parse_common_args() {
  while (($#)); do
    case "$1" in
      --dry-run) DRY_RUN=1 ;;
      -h|--help) sed -n '2,/^$/p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
      *) echo "$(basename "$0"): unknown argument $1" >&2; exit 2 ;;
    esac
    shift
  done
}
