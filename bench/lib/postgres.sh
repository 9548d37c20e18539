# shellcheck shell=bash
# Throwaway PostgreSQL for the benchmarks (sourced, not run).
#
#   . "$root/bench/lib/postgres.sh"
#   bench_pg_start "$work"      # initdb into $work/data, a free port on 127.0.0.1; sets pg_pid, pg_port, pg_url
#   ...
#   bench_pg_cpu                # CPU ticks (user+system) used so far by the server and its backends
#   bench_pg_stop               # fast shutdown (SIGINT) and wait; safe to call twice
#
# As root, PostgreSQL runs as the `postgres` user (or `nobody`) through setpriv: it refuses root, and
# $work is handed to that user. PARLEY_PG_BIN overrides /usr/lib/postgresql/15/bin. Commits are
# durable, as PostgreSQL's defaults make them (synchronous_commit on; until session 7 the benchmarks
# ran with it off, and POST at saturation measured 5,200-8,300/s instead of 4,500-5,300/s). Extra
# server settings: PG_OPTS (e.g. "-c log_min_duration_statement=5"). The server log is $work/pg.log.

bench_free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

pg_pid=""
bench_pg_start() {
  local work="$1" pgbin="${PARLEY_PG_BIN:-/usr/lib/postgresql/15/bin}" as_pg=()
  [ -x "$pgbin/initdb" ] || { echo "no PostgreSQL at $pgbin (apt-get install postgresql, or set PARLEY_PG_BIN)" >&2; return 1; }
  if [ "$(id -u)" = 0 ]; then
    local pguser=postgres
    id -u postgres >/dev/null 2>&1 || pguser=nobody
    chown "$pguser" "$work"
    as_pg=(setpriv --reuid="$pguser" --regid="$(id -g "$pguser")" --clear-groups)
  fi
  pg_port="$(bench_free_port)"
  "${as_pg[@]}" "$pgbin/initdb" -D "$work/data" -U parley -A trust -E UTF8 --locale=C --no-sync >/dev/null
  # shellcheck disable=SC2086
  "${as_pg[@]}" "$pgbin/postgres" -D "$work/data" -p "$pg_port" -k "$work" -c listen_addresses=127.0.0.1 \
    -c max_connections=200 -c shared_buffers=256MB ${PG_OPTS:-} >"$work/pg.log" 2>&1 &
  pg_pid=$!
  for _ in $(seq 100); do "$pgbin/pg_isready" -q -h 127.0.0.1 -p "$pg_port" && break; sleep 0.1; done
  "$pgbin/pg_isready" -q -h 127.0.0.1 -p "$pg_port" || { cat "$work/pg.log" >&2; return 1; }
  # shellcheck disable=SC2034  # read by the scripts that source this file
  pg_url="postgres://parley@127.0.0.1:$pg_port/postgres"
}

# CPU ticks (user + system, in CLK_TCK units) used so far by process $1; 0 when it is gone.
bench_cpu_of() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
bench_pg_cpu() {
  local t=0 p
  for p in $pg_pid $(pgrep -P "$pg_pid"); do t=$((t + $(bench_cpu_of "$p"))); done
  echo "$t"
}

bench_pg_stop() {
  if [ -n "$pg_pid" ]; then
    kill -INT "$pg_pid" 2>/dev/null && wait "$pg_pid" 2>/dev/null || true
    pg_pid=""
  fi
}
