#!/usr/bin/env bash
# db-api benchmark on PostgreSQL: starts a throwaway PostgreSQL (initdb in a temp dir, free port,
# 127.0.0.1) and `parley db-api` on it, seeds one chat with 20 messages, then runs wrk:
#   1. GET  /v1/chats/{id}           100 connections, as fast as answered (saturation)
#   2. GET  /v1/chats/{id}           100 connections, paced (GET_PACE_MS, default 4: ~15-20k req/s)
#   3. POST /v1/chats/{id}/messages  100 connections (a new message per request), saturation
#   4. POST /v1/chats/{id}/messages  100 connections, paced (POST_PACE_MS, default 20: ~4k req/s)
#   5. GET  /v1/chats/{id}           1000 connections, saturation
#   6. POST /v1/chats/{id}/messages  100 connections, each request into one of POST_CHATS chats (default
#                                    100) at random, as users posting into their own chats (3 and 4 post
#                                    into one chat: each insert's foreign-key check locks that chat's row)
#   7. POST as 6, paced (POST_PACE_MS)
# and prints wrk's output, the latency db-api itself measured (its access log:
# bench/lib/access_latency.py), db-api's RSS and CPU (and with CANARY=1 how late a bystander process woke
# up meanwhile: bench/lib/canary.py, stalls of the whole machine) after each run. wrk is a closed
# loop: unpaced, the mean latency is connections / throughput and the p99 is queueing at
# saturation; paced runs (after each answer a connection waits a random 0..2N ms,
# bench/lib/pace.lua) show the latency at a rate.
#
#   bench/dbapi/run.sh [path/to/parley]       (default: $PARLEY_BINARY, build/release/parley)
# Environment: DURATION (default 15s), WRK_THREADS (2), DBAPI_THREADS (2), POOL_SIZE (16),
# GET_PACE_MS (4), POST_PACE_MS (20), PG_OPTS (extra PostgreSQL settings), CASES (which runs, by
# number, default "1 2 3 4 5 6 7"), DBAPI_LOG (keep db-api's log, with its access lines, at this path),
# PG_LOG (the same for PostgreSQL's log), CANARY (1: measure whole-machine stalls).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
parley="${1:-${PARLEY_BINARY:-$root/build/release/parley}}"
[ -x "$parley" ] || { echo "run.sh: no parley binary at $parley (build it or pass its path)" >&2; exit 1; }
command -v wrk >/dev/null || { echo "run.sh: wrk is not installed (apt-get install wrk)" >&2; exit 1; }
. "$root/bench/lib/postgres.sh"
duration="${DURATION:-15s}"
wrk_threads="${WRK_THREADS:-2}"

work="$(mktemp -d /tmp/parley-bench.XXXXXX)"
api_pid=""
cleanup() {
  [ -n "$api_pid" ] && kill "$api_pid" 2>/dev/null && wait "$api_pid" 2>/dev/null || true
  [ -n "${DBAPI_LOG:-}" ] && cp "$work/dbapi.log" "$DBAPI_LOG"
  [ -n "${PG_LOG:-}" ] && cp "$work/pg.log" "$PG_LOG"
  bench_pg_stop
  rm -rf "$work"
}
trap cleanup EXIT
bench_pg_start "$work"

api_port="$(bench_free_port)"
export PARLEY_SERVICE_TOKEN="bench-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
"$parley" db-api --port "$api_port" \
  --database "$pg_url" --threads "${DBAPI_THREADS:-2}" \
  --pool-size "${POOL_SIZE:-16}" >"$work/dbapi.log" 2>&1 &
api_pid=$!
base="http://127.0.0.1:$api_port"
for _ in $(seq 100); do curl -sf "$base/readyz" >/dev/null && break; sleep 0.1; done

export TOKEN="$PARLEY_SERVICE_TOKEN" OWNER="bench-owner"
hdr=(-H "Authorization: Bearer $TOKEN" -H "X-Parley-Owner: $OWNER" -H "Content-Type: application/json")
new_chat() {  # new_chat TITLE: prints the id of a new chat
  curl -sf "${hdr[@]}" -d "{\"title\":\"$1\"}" "$base/v1/chats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'
}
seed_chat() {  # seed_chat ID: 20 messages, user and assistant in turn
  local i role
  for i in $(seq 1 20); do
    role=user; [ $((i % 2)) = 0 ] && role=assistant
    curl -sf "${hdr[@]}" -o /dev/null \
      -d "{\"role\":\"$role\",\"content\":\"Message $i of the benchmark chat: a sentence or two of ordinary text, about as long as a short chat turn.\"}" \
      "$base/v1/chats/$1/messages"
  done
}
chat_id="$(new_chat "benchmark chat")"
seed_chat "$chat_id"
export CHAT_ID="$chat_id"
echo "db-api $base (pid $api_pid) on PostgreSQL :$pg_port; chat $chat_id with $(curl -sf "${hdr[@]}" "$base/v1/chats/$chat_id" |
  python3 -c 'import json,sys; print(len(json.load(sys.stdin)["messages"]))') messages; $(nproc) CPUs"

rss() { grep -E 'VmRSS|VmHWM' "/proc/$api_pid/status" | tr -s ' \t' ' ' | tr '\n' ' '; echo; }
# CPU seconds (user+system) used so far by db-api and by all PostgreSQL processes: with the machine
# shared, requests per CPU-second is the figure that does not depend on what else runs.
hz=$(getconf CLK_TCK)
ulimit -n 65536 2>/dev/null || true
echo "RSS before: $(rss)"
export BENCH_LIB="$root/bench/lib"
run() {  # run CONNECTIONS SCRIPT [PACE_MS]
  local pace="${3:-}"
  echo; echo "== ${pace:+PACE_MS=$pace }wrk -t$wrk_threads -c$1 -d$duration --latency $2   (load average before: $(cut -d' ' -f1 /proc/loadavg))"
  local a0 p0 out n a1 p1 lines
  a0=$(bench_cpu_of "$api_pid"); p0=$(bench_pg_cpu)
  lines=$(wc -l <"$work/dbapi.log")
  # CANARY=1: beside wrk, how late a process that sleeps 1 ms at a time wakes up (stalls of the
  # whole machine). Off by default: a process waking 1,000 times a second changes what it measures
  # on this VM (idle virtual CPUs halt less; docs/performance.md).
  local canary=""
  : >"$work/canary.txt"
  if [ "${CANARY:-0}" = 1 ]; then
    python3 "$root/bench/lib/canary.py" "${duration%s}" >"$work/canary.txt" 2>&1 &
    canary=$!
  fi
  out="$(PACE_MS="$pace" wrk -t"$wrk_threads" -c"$1" -d"$duration" --latency -s "$here/$2" "$base")"
  a1=$(bench_cpu_of "$api_pid"); p1=$(bench_pg_cpu)
  [ -n "$canary" ] && { wait "$canary" || true; }
  echo "$out" | sed 's/^/   /'
  [ -s "$work/canary.txt" ] && echo "   $(cat "$work/canary.txt")"
  sleep 0.2  # db-api writes its log every 20 ms
  echo "   $(python3 "$root/bench/lib/access_latency.py" "$work/dbapi.log" "$lines" /v1/chats/)"
  n=$(echo "$out" | awk '/requests in/ {print $1}')
  echo "   db-api $(rss)"
  awk -v n="$n" -v a=$((a1 - a0)) -v p=$((p1 - p0)) -v hz="$hz" 'BEGIN {
    printf "   CPU: db-api %.2f s, postgres %.2f s for %d requests = %.0f us db-api + %.0f us postgres per request\n",
      a/hz, p/hz, n, 1e6*a/hz/n, 1e6*p/hz/n }'
}
cases=" ${CASES:-1 2 3 4 5 6 7} "
[[ $cases == *" 1 "* ]] && run 100 get_chat.lua
[[ $cases == *" 2 "* ]] && run 100 get_chat.lua "${GET_PACE_MS:-4}"
[[ $cases == *" 3 "* ]] && run 100 post_message.lua
[[ $cases == *" 4 "* ]] && run 100 post_message.lua "${POST_PACE_MS:-20}"
# the chat grew; measure GETs on a fresh 20-message chat again for the 1000-connection run
chat_id="$(new_chat "benchmark chat 2")"
seed_chat "$chat_id"
export CHAT_ID="$chat_id"
[[ $cases == *" 5 "* ]] && run 1000 get_chat.lua
if [[ $cases == *" 6 "* || $cases == *" 7 "* ]]; then
  ids=""
  for _ in $(seq "${POST_CHATS:-100}"); do
    ids+="${ids:+,}$(new_chat "benchmark chat")"
  done
  export CHAT_IDS="$ids"
  echo; echo "POST into ${POST_CHATS:-100} chats:"
  [[ $cases == *" 6 "* ]] && run 100 post_message.lua
  [[ $cases == *" 7 "* ]] && run 100 post_message.lua "${POST_PACE_MS:-20}"
  unset CHAT_IDS
fi
echo; echo "db-api still ready: $(curl -s "$base/readyz")"
