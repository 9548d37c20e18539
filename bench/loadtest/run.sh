#!/usr/bin/env bash
# Capacity of one replica of each role, measured with `parley loadtest` at increasing load, then
# `parley plan` over the results (scale-rule targets, replicas, autoscaling simulation, cost).
#   db-api  (SQLite in a temp dir; DATABASE=postgres to start a throwaway PostgreSQL, or a
#            postgres:// URL)                                     db scenario, DB_USERS levels
#   lm-api  (MODEL, default the stories260K test model)          lm scenario, LM_USERS levels
#   serve   (the whole app: UI + store + engine, one process)    chat scenario, CHAT_USERS levels
# Every result is kept as JSON (+ SVG plot) in $OUT; the load generator's own CPU cost per
# request is printed for the db runs (it must not be the bottleneck).
#
#   bench/loadtest/run.sh [path/to/parley]    (default: $PARLEY_BINARY, build/release/parley)
# Environment: DURATION (default 20s), DATABASE (above), DB_USERS ("1 4 16 64 256"), LM_USERS ("1 2 4 8"),
#   CHAT_USERS ("4 16 64"), THINK (chat think time, default 2s), PROMPT/MAX_TOKENS (lm: 200/128),
#   ROLES ("db lm chat"), GEN_CPU (pin the load tester to this CPU with taskset), PLAN_ARGS
#   (extra `parley plan` arguments, default objectives: db p99 50 ms, TTFT p99 5 s).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
parley="${1:-${PARLEY_BINARY:-$root/build/release/parley}}"
[ -x "$parley" ] || { echo "run.sh: no parley binary at $parley (build it or pass its path)" >&2; exit 1; }
duration="${DURATION:-20s}"
roles="${ROLES:-db lm chat}"
model="${MODEL:-$root/../shared/models/stories260K.gguf}"
out="${OUT:-$(mktemp -d /tmp/parley-capacity.XXXXXX)}"
mkdir -p "$out"
gen=("$parley")
[ -n "${GEN_CPU:-}" ] && gen=(taskset -c "$GEN_CPU" "$parley")

. "$root/bench/lib/postgres.sh"
export PARLEY_SERVICE_TOKEN="${PARLEY_SERVICE_TOKEN:-capacity-$RANDOM$RANDOM}"
pid=""
stop() { if [ -n "$pid" ]; then kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true; pid=""; fi; }
pgwork=""
trap 'stop; bench_pg_stop; [ -z "$pgwork" ] || rm -rf "$pgwork"' EXIT
start() {  # start NAME ARGS...: a role on a free port; sets $url
  local name="$1"; shift
  local port; port="$(bench_free_port)"
  "$parley" "$@" --port "$port" >"$out/$name.log" 2>&1 &
  pid=$!
  url="http://127.0.0.1:$port"
  for _ in $(seq 1 600); do
    curl -sf "$url/healthz" >/dev/null 2>&1 && return 0
    kill -0 "$pid" 2>/dev/null || { cat "$out/$name.log" >&2; exit 1; }
    sleep 0.1
  done
  echo "$name did not start" >&2; exit 1
}
load() {  # load FILE ARGS...: one level; prints the overall line and the generator's cost
  local file="$1"; shift
  "${gen[@]}" loadtest --url "$url" --duration "$duration" --quiet --json "$out/$file.json" --plot "$out/$file.svg" "$@" |
    grep -E '^(scenario|overall|time to first|aggregate|load generator)'
}

for role in $roles; do
  case "$role" in
    db)
      mkdir -p "$out/db"
      database="${DATABASE:-sqlite:$out/db/parley.db}"
      if [ "$database" = postgres ]; then
        pgwork="$(mktemp -d /tmp/parley-capacity-pg.XXXXXX)"
        bench_pg_start "$pgwork"
        database="$pg_url"
      fi
      start db-api db-api --database "$database"
      for n in ${DB_USERS:-1 4 16 64 256}; do load "db-$n" --scenario db --users "$n"; done
      stop; bench_pg_stop ;;
    lm)
      start lm-api lm-api --model "$model" --threads "${THREADS:-2}" --slots "${SLOTS:-8}" --ctx "${CTX:-8192}"
      for n in ${LM_USERS:-1 2 4 8}; do
        load "lm-$n" --scenario lm --users "$n" --prompt-tokens "${PROMPT:-200}" --max-tokens "${MAX_TOKENS:-128}" --drain 600s
      done
      stop ;;
    chat)
      mkdir -p "$out/serve"
      start serve serve --model "$model" --threads "${THREADS:-2}" --data-dir "$out/serve" --max-tokens "${MAX_TOKENS:-128}" \
        --generations-per-minute 0
      for n in ${CHAT_USERS:-4 16 64}; do
        load "chat-$n" --scenario chat --users "$n" --turns 3 --think "${THINK:-2s}" --prompt-tokens 20 --drain 600s
      done
      stop ;;
  esac
done

echo
# shellcheck disable=SC2086
"$parley" plan "$out"/*.json ${PLAN_ARGS:---latency-slo 0.05 --ttft-slo 5 --users 200 --profile spike --every 30}
echo "results: $out"
