#!/usr/bin/env bash
# Chat page render in the microservice topology (issue 5): a throwaway PostgreSQL (initdb in a temp
# dir, free port, 127.0.0.1), `parley db-api` on it and `parley ui` on db-api (lm-api is not needed
# to show pages: it points at a closed port). A browser session is made through the UI (GET /,
# POST /chats with its CSRF token), the chat gets 20 messages through db-api (owner read from the
# database), then wrk reads the page:
#   GET /chats/{id}   100 connections (WRK_CONNS), as fast as answered, then paced (PACE_MS, default 40:
#                     after each answer a connection waits a random 0..80 ms, bench/lib/pace.lua)
# and prints wrk's output, the CPU time per page of ui, db-api and PostgreSQL, and the RSS of ui.
#
#   bench/ui/run.sh [path/to/parley]       (default: $PARLEY_BINARY, build/release/parley)
# Environment: DURATION (default 15s), WRK_THREADS (2), WRK_CONNS (100), THREADS (event loop
# threads of ui and db-api, 2), POOL_SIZE (db-api's PostgreSQL connections, 16), PACE_MS (40), PG_OPTS.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
parley="${1:-${PARLEY_BINARY:-$root/build/release/parley}}"
[ -x "$parley" ] || { echo "run.sh: no parley binary at $parley (build it or pass its path)" >&2; exit 1; }
command -v wrk >/dev/null || { echo "run.sh: wrk is not installed (apt-get install wrk)" >&2; exit 1; }
. "$root/bench/lib/postgres.sh"
pgbin="${PARLEY_PG_BIN:-/usr/lib/postgresql/15/bin}"
duration="${DURATION:-15s}"

work="$(mktemp -d /tmp/parley-uibench.XXXXXX)"
api_pid=""; ui_pid=""
cleanup() {
  [ -n "$ui_pid" ] && kill "$ui_pid" 2>/dev/null && wait "$ui_pid" 2>/dev/null || true
  [ -n "$api_pid" ] && kill "$api_pid" 2>/dev/null && wait "$api_pid" 2>/dev/null || true
  bench_pg_stop
  rm -rf "$work"
}
trap cleanup EXIT
bench_pg_start "$work"

export PARLEY_SERVICE_TOKEN="bench-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export SESSION_KEY="bench-session-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
api_port="$(bench_free_port)"
"$parley" db-api --port "$api_port" --database "$pg_url" \
  --threads "${THREADS:-2}" --pool-size "${POOL_SIZE:-16}" >"$work/dbapi.log" 2>&1 &
api_pid=$!
api="http://127.0.0.1:$api_port"
for _ in $(seq 100); do curl -sf "$api/readyz" >/dev/null && break; sleep 0.1; done

ui_port="$(bench_free_port)"
"$parley" ui --port "$ui_port" --db-api "$api" --lm-api "http://127.0.0.1:1" --threads "${THREADS:-2}" \
  >"$work/ui.log" 2>&1 &
ui_pid=$!
ui="http://127.0.0.1:$ui_port"
for _ in $(seq 100); do curl -sf "$ui/healthz" >/dev/null && break; sleep 0.1; done

# A session (cookie jar) and its CSRF token, then a chat made through the UI.
curl -sf -c "$work/jar" -b "$work/jar" "$ui/" -o "$work/home.html"
csrf="$(grep -o 'name="csrf" value="[^"]*"' "$work/home.html" | head -1 | sed 's/.*value="//; s/"$//')"
[ -n "$csrf" ] || { echo "run.sh: no CSRF token on the home page" >&2; exit 1; }
location="$(curl -s -o /dev/null -w '%{redirect_url}' -c "$work/jar" -b "$work/jar" --data-urlencode "csrf=$csrf" "$ui/chats")"
chat_id="${location##*/chats/}"
[[ "$chat_id" == chat_* ]] || { echo "run.sh: creating a chat through the UI failed ($location)" >&2; exit 1; }
owner="$("$pgbin/psql" -At -h 127.0.0.1 -p "$pg_port" -U parley postgres -c "SELECT owner FROM chats WHERE id = '$chat_id'")"
hdr=(-H "Authorization: Bearer $PARLEY_SERVICE_TOKEN" -H "X-Parley-Owner: $owner" -H "Content-Type: application/json")
for i in $(seq 1 20); do
  role=user; [ $((i % 2)) = 0 ] && role=assistant
  curl -sf "${hdr[@]}" -o /dev/null \
    -d "{\"role\":\"$role\",\"content\":\"Message $i of the benchmark chat: a sentence or two of **ordinary** text, about as long as a short chat turn.\"}" \
    "$api/v1/chats/$chat_id/messages"
done
export CHAT_ID="$chat_id"
COOKIE="$(sed 's/^#HttpOnly_//' "$work/jar" | awk '!/^#/ && NF >= 7 {print $6 "=" $7}' | paste -sd ';' | sed 's/;/; /g')"
export COOKIE
items="$(curl -sf -H "Cookie: $COOKIE" "$ui/chats/$chat_id" | grep -c '<li class="msg ' || true)"
echo "ui $ui (pid $ui_pid) -> db-api $api (pid $api_pid) -> PostgreSQL :$pg_port; chat $chat_id: page with $items messages; $(nproc) CPUs"

hz=$(getconf CLK_TCK)
rss() { grep -E 'VmRSS|VmHWM' "/proc/$1/status" | tr -s ' \t' ' ' | tr '\n' ' '; echo; }
ulimit -n 20000 2>/dev/null || true
conns="${WRK_CONNS:-100}"
export BENCH_LIB="$root/bench/lib"
run() {  # run [PACE_MS]
  local pace="${1:-}" u0 a0 p0 u1 a1 p1 out n
  echo; echo "== ${pace:+PACE_MS=$pace }wrk -t${WRK_THREADS:-2} -c$conns -d$duration --latency chat_page.lua   (load average before: $(cut -d' ' -f1 /proc/loadavg))"
  u0=$(bench_cpu_of "$ui_pid"); a0=$(bench_cpu_of "$api_pid"); p0=$(bench_pg_cpu)
  out="$(PACE_MS="$pace" wrk -t"${WRK_THREADS:-2}" -c"$conns" -d"$duration" --latency -s "$here/chat_page.lua" "$ui")"
  u1=$(bench_cpu_of "$ui_pid"); a1=$(bench_cpu_of "$api_pid"); p1=$(bench_pg_cpu)
  echo "$out" | sed 's/^/   /'
  n=$(echo "$out" | awk '/requests in/ {print $1}')
  echo "   ui $(rss "$ui_pid")"
  awk -v n="$n" -v u=$((u1 - u0)) -v a=$((a1 - a0)) -v p=$((p1 - p0)) -v hz="$hz" 'BEGIN {
    printf "   CPU per page: ui %.0f us, db-api %.0f us, postgres %.0f us (total %.0f us) over %d pages\n",
      1e6*u/hz/n, 1e6*a/hz/n, 1e6*p/hz/n, 1e6*(u+a+p)/hz/n, n }'
  echo "   load average after: $(cut -d' ' -f1 /proc/loadavg)"
}
run                      # as fast as answered: throughput, and latency at saturation
run "${PACE_MS:-40}"     # paced: ~2,000-2,500 pages/s, the latency at a rate above the target's 1,800
