#!/usr/bin/env bash
# The cloud topology on one machine, one network namespace per "host" (issue 6):
#
#   internet 10.66.0.100 ──> nginx 10.66.0.40:80 ──> ui1 .31, ui2 .32 :8080
#   ui ──> db-api "Service" 10.66.0.50:8081 (kube-proxy-like DNAT in the ui hosts) ──> db1 .11, db2 .12
#   ui ──> lm1 .21, lm2 .22 :8082 (stories260K) by the name lm-api-replicas (dns+ in LM_API_URL,
#          from a hosts file per ui host: a headless Service's addresses); the UI picks per chat
#   db-api ──> PostgreSQL 10.66.0.10:5432 (throwaway initdb, password auth)
#
# All hosts hang off one bridge in a namespace of their own; the 10.x addresses exist only inside
# the namespaces. NetworkPolicy-like rules (iptables in each host): PostgreSQL accepts only db1/db2,
# db-api and lm-api only ui1/ui2, ui only nginx; everything else gets a TCP reset.
# Checks: a chat works end to end through nginx; the internet host reaches nginx and nothing else;
# a session keeps working across UI replicas; requests/s of the UI tier with one and two replicas
# (reported); stopping ui2 and db2 under load loses no acknowledged message; SIGTERM to lm2 lets
# its streams finish while new chats go to lm1.
#
#   tests/deploy/multihost.sh [path/to/parley]   (default: $PARLEY_BINARY, build/release/parley)
#
# Needs root (ip netns, iptables), PostgreSQL 15 binaries, nginx, curl, jq (and wrk for the
# requests/s figures); skips (exit 0)
# with a message when it cannot create namespaces. Bounded by a 170 s watchdog; every process it
# starts is stopped by PID and every namespace deleted on exit.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
parley="${1:-${PARLEY_BINARY:-$repo/build/release/parley}}"
model="${PARLEY_TEST_MODEL:-$repo/../shared/models/stories260K.gguf}"
pgbin="${PARLEY_PG_BIN:-/usr/lib/postgresql/15/bin}"

skip() {
  echo "multihost: SKIP: $*"
  exit 0
}
[ "$(id -u)" -eq 0 ] || skip "needs root to create network namespaces"
for tool in ip iptables nginx curl jq setpriv; do
  command -v "$tool" >/dev/null || skip "$tool is not installed"
done
[ -x "$pgbin/postgres" ] || skip "no PostgreSQL binaries in $pgbin"
[ -x "$parley" ] || { echo "multihost: no parley binary at $parley" >&2; exit 1; }
[ -f "$model" ] || { echo "multihost: no model at $model" >&2; exit 1; }

prefix="pm$$"
net=10.66.0
declare -A addr=([pg]=$net.10 [db1]=$net.11 [db2]=$net.12 [lm1]=$net.21 [lm2]=$net.22 [ui1]=$net.31
  [ui2]=$net.32 [nginx]=$net.40 [inet]=$net.100)
hosts=(pg db1 db2 lm1 lm2 ui1 ui2 nginx inet)
db_service=$net.50
declare -A pid=()
namespaces=()
tmp="$(mktemp -d /tmp/parley-multihost.XXXXXX)"
chmod 755 "$tmp"
watchdog=""
made_etc_netns=0
[ -d /etc/netns ] || made_etc_netns=1

cleanup() {
  local p
  [ -n "$watchdog" ] && kill "$watchdog" 2>/dev/null
  for p in "${pid[@]}"; do kill "$p" 2>/dev/null || true; done
  for _ in $(seq 50); do
    local alive=0
    for p in "${pid[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.1
  done
  for p in "${pid[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  for p in "${namespaces[@]}"; do ip netns del "$p" 2>/dev/null || true; done
  for p in ui1 ui2; do rm -rf "/etc/netns/$prefix-$p"; done
  [ "$made_etc_netns" = 1 ] && rmdir /etc/netns 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'echo "multihost: interrupted" >&2; exit 1' INT TERM
(
  trap 'kill "$s" 2>/dev/null; exit 0' TERM
  sleep "${MULTIHOST_TIMEOUT:-170}" &
  s=$!
  wait "$s"
  echo "multihost: watchdog: over time" >&2
  kill -TERM $$
) &
watchdog=$!

failed=0
pass() { echo "ok   $*"; }
fail() {
  echo "FAIL $*"
  failed=1
}
on() {  # on HOST CMD...: run in that host's namespace
  local h=$1
  shift
  ip netns exec "$prefix-$h" "$@"
}
# spawn NAME HOST CMD...: start in the background, output to $tmp/NAME.log; pid[NAME] is the
# command's own PID (ip netns exec and env exec it, no shell in between).
spawn() {
  local name=$1 h=$2
  shift 2
  ip netns exec "$prefix-$h" "$@" >"$tmp/$name.log" 2>&1 &
  pid[$name]=$!
}

# --- the network ------------------------------------------------------------------------------
ip netns add "$prefix-sw" 2>/dev/null || skip "cannot create network namespaces here"
namespaces+=("$prefix-sw")
ip -n "$prefix-sw" link add br0 type bridge
ip -n "$prefix-sw" link set br0 up
for h in "${hosts[@]}"; do
  ip netns add "$prefix-$h"
  namespaces+=("$prefix-$h")
  ip -n "$prefix-$h" link set lo up
  ip -n "$prefix-sw" link add "v-$h" type veth peer name eth0 netns "$prefix-$h"
  ip -n "$prefix-sw" link set "v-$h" master br0 up
  ip -n "$prefix-$h" addr add "${addr[$h]}/24" dev eth0
  ip -n "$prefix-$h" link set eth0 up
done

# allow HOST PORT FROM...: the port accepts only these hosts; anyone else gets a TCP reset.
allow() {
  local h=$1 port=$2
  shift 2
  local from
  for from in "$@"; do on "$h" iptables -A INPUT -p tcp --dport "$port" -s "${addr[$from]}" -j ACCEPT; done
  on "$h" iptables -A INPUT -p tcp --dport "$port" -j REJECT --reject-with tcp-reset
}
allow pg 5432 db1 db2
for h in db1 db2; do allow "$h" 8081 ui1 ui2; done
for h in lm1 lm2; do allow "$h" 8082 ui1 ui2; done
for h in ui1 ui2; do allow "$h" 8080 nginx; done

# The db-api Service as kube-proxy programs it: a virtual address DNAT-ed to a random endpoint.
set_db_endpoints() {
  local h n i=0 e
  n=$#
  for h in ui1 ui2; do
    on "$h" iptables -t nat -F DBAPI 2>/dev/null || {
      on "$h" iptables -t nat -N DBAPI
      on "$h" iptables -t nat -A OUTPUT -d "$db_service" -p tcp --dport 8081 -j DBAPI
    }
    i=0
    for e in "$@"; do
      if ((i < n - 1)); then
        on "$h" iptables -t nat -A DBAPI -p tcp -m statistic --mode random --probability "$(awk "BEGIN{print 1/($n-$i)}")" \
          -j DNAT --to-destination "${addr[$e]}:8081"
      else
        on "$h" iptables -t nat -A DBAPI -p tcp -j DNAT --to-destination "${addr[$e]}:8081"
      fi
      i=$((i + 1))
    done
  done
}
set_db_endpoints db1 db2

# The lm-api replicas by name, as a headless Service gives them: `ip netns exec` shows each ui host
# /etc/netns/NS/hosts as its /etc/hosts, where lm-api-replicas has one line per ready replica.
set_lm_replicas() {
  local h e
  for h in ui1 ui2; do
    mkdir -p "/etc/netns/$prefix-$h"
    {
      echo "127.0.0.1 localhost"
      for e in "$@"; do echo "${addr[$e]} lm-api-replicas"; done
    } >"/etc/netns/$prefix-$h/hosts"
  done
}
set_lm_replicas lm1 lm2

# --- the services -----------------------------------------------------------------------------
PARLEY_SERVICE_TOKEN="mh-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
SESSION_KEY="$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
pg_password="$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export PARLEY_SERVICE_TOKEN SESSION_KEY
export PARLEY_GENERATIONS_PER_MINUTE=0  # the writers below post back to back from one session each
unset DB_API_URL LM_API_URL POSTGRES_HOST PARLEY_DATABASE

pguser=postgres
id -u postgres >/dev/null 2>&1 || pguser=nobody
as_pg=(setpriv --reuid="$pguser" --regid="$(id -g "$pguser")" --clear-groups)
mkdir "$tmp/pg"
printf '%s\n' "$pg_password" >"$tmp/pg/pw"
chown -R "$pguser" "$tmp/pg"
"${as_pg[@]}" "$pgbin/initdb" -D "$tmp/pg/data" -U parley --pwfile="$tmp/pg/pw" -A scram-sha-256 -E UTF8 \
  --locale=C --no-sync >/dev/null
echo "host all all $net.0/24 scram-sha-256" >>"$tmp/pg/data/pg_hba.conf"
spawn pg pg "${as_pg[@]}" "$pgbin/postgres" -D "$tmp/pg/data" -p 5432 -k "$tmp/pg" -c "listen_addresses=${addr[pg]}" \
  -c fsync=off

start_db() {
  spawn "$1" "$1" env PARLEY_DRAIN_TIMEOUT=10s "$parley" db-api --host "${addr[$1]}" --port 8081 --threads 1 \
    --pool-size 4 --database "postgres://parley:$pg_password@${addr[pg]}:5432/postgres"
}
start_lm() {
  spawn "$1" "$1" env PARLEY_DRAIN_TIMEOUT=60s "$parley" lm-api --model "$model" --host "${addr[$1]}" --port 8082 \
    --threads 1 --slots 4
}
start_ui() {
  spawn "$1" "$1" env PARLEY_DRAIN_TIMEOUT=30s "$parley" ui --host "${addr[$1]}" --port 8080 --threads 1 \
    --db-api "http://$db_service:8081" --lm-api dns+http://lm-api-replicas:8082 --max-tokens 48
}
# wait_http FROM URL NAME: poll until the URL answers 2xx from that host (the process must live).
wait_http() {
  local i
  for i in $(seq 300); do
    on "$1" curl -sf -o /dev/null --max-time 2 "$2" && return 0
    kill -0 "${pid[$3]}" 2>/dev/null || { echo "multihost: $3 exited:" >&2; tail -n 20 "$tmp/$3.log" >&2; exit 1; }
    sleep 0.1
  done
  echo "multihost: $3 did not come up ($2)" >&2
  tail -n 20 "$tmp/$3.log" >&2
  exit 1
}

for _ in $(seq 150); do
  on db1 "$pgbin/pg_isready" -q -h "${addr[pg]}" -p 5432 && break
  sleep 0.1
done
start_db db1
start_db db2
start_lm lm1
start_lm lm2
wait_http ui1 "http://${addr[db1]}:8081/healthz" db1
wait_http ui1 "http://${addr[db2]}:8081/healthz" db2
wait_http ui1 "http://${addr[lm1]}:8082/healthz" lm1
wait_http ui1 "http://${addr[lm2]}:8082/healthz" lm2
start_ui ui1
start_ui ui2
wait_http nginx "http://${addr[ui1]}:8080/readyz" ui1
wait_http nginx "http://${addr[ui2]}:8080/readyz" ui2

# nginx: the proxying of deploy/nginx/nginx.conf (its `location /` block, verbatim) on plain HTTP,
# minus the per-address rate limits (the load tests below all come from one address).
mkdir -p "$tmp/nginx"
chmod 777 "$tmp/nginx"
proxy_block="$(awk '/^    location \/ \{$/ { buf = ""; inside = 1 }
  inside { buf = buf $0 "\n" }
  inside && /^    \}$/ { inside = 0; if (buf ~ /proxy_pass http:\/\/parley_ui;/) printf "%s", buf }' "$repo/deploy/nginx/nginx.conf")"
[ -n "$proxy_block" ] || { echo "multihost: no proxy block in deploy/nginx/nginx.conf" >&2; exit 1; }
write_nginx_conf() {  # write_nginx_conf UI...
  local u servers=""
  for u in "$@"; do servers+="    server ${addr[$u]}:8080 max_fails=3 fail_timeout=10s;"$'\n'; done
  cat >"$tmp/nginx/nginx.conf" <<EOF
worker_processes 1;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log warn;
events { worker_connections 4096; }
http {
  include /etc/nginx/mime.types;
  client_body_temp_path $tmp/nginx/body;
  proxy_temp_path $tmp/nginx/proxy;
  fastcgi_temp_path $tmp/nginx/fastcgi;
  uwsgi_temp_path $tmp/nginx/uwsgi;
  scgi_temp_path $tmp/nginx/scgi;
  log_format parley '\$remote_addr "\$request" \$status upstream=\$upstream_addr';
  access_log $tmp/nginx/access.log parley;
  client_max_body_size 1m;
  upstream parley_ui {
    least_conn;
$servers    keepalive 32;
  }
  map \$http_upgrade \$connection_upgrade {
    default upgrade;
    "" "";
  }
  server {
    listen ${addr[nginx]}:80;
    location ~ ^/(metrics|healthz|readyz)\$ {
      return 404;
    }
$proxy_block
  }
}
EOF
}
write_nginx_conf ui1 ui2
on nginx nginx -t -q -c "$tmp/nginx/nginx.conf" -g 'daemon off;' || { echo "multihost: generated nginx.conf is invalid" >&2; exit 1; }
spawn nginx nginx nginx -c "$tmp/nginx/nginx.conf" -g 'daemon off;'
front="http://${addr[nginx]}"
for _ in $(seq 100); do on inet curl -s -o /dev/null --max-time 2 "$front/" && break; sleep 0.1; done
echo "topology up: pg, db1, db2, lm1, lm2, ui1, ui2, nginx, internet (namespaces $prefix-*)"

# --- a browser in bash: curl with a cookie jar ---------------------------------------------------
# new_session FROM BASE JAR: GET / (cookie, CSRF token); prints the token.
new_session() {
  on "$1" curl -sS --max-time 10 -c "$3" -b "$3" "$2/" | grep -o 'name="csrf" value="[^"]*"' | head -n1 |
    sed 's/.*value="//; s/"$//'
}
# new_chat FROM BASE JAR CSRF: POST /chats; prints the chat path (/chats/ID).
new_chat() {
  on "$1" curl -sS --max-time 10 -c "$3" -b "$3" -o /dev/null -w '%{redirect_url}' --data-urlencode "csrf=$4" "$2/chats" |
    sed 's|^https\?://[^/]*||'
}
# send FROM BASE JAR CSRF CHAT TEXT: POST a message, read the reply's SSE to the end; prints it.
send() {
  on "$1" curl -sS -N --max-time 30 -c "$3" -b "$3" -H 'Accept: text/event-stream' --data-urlencode "csrf=$4" \
    --data-urlencode "content=$6" "$2$5/messages" 2>/dev/null || true
}
page() { on "$1" curl -sS --max-time 10 -b "$3" "$2$4" 2>/dev/null || true; }

# 1. A chat through nginx, from the internet.
jar="$tmp/jar-main"
main_chat=/
csrf="$(new_session inet "$front" "$jar")"
chat="$(new_chat inet "$front" "$jar" "$csrf")"
reply="$(send inet "$front" "$jar" "$csrf" "$chat" "Once upon a time there was a fox")"
if [[ "$chat" == /chats/* ]] && grep -q '^event: user' <<<"$reply" && grep -q '^event: piece' <<<"$reply" &&
  grep -q '^event: done' <<<"$reply" && page inet "$front" "$jar" "$chat" | grep -q 'there was a fox'; then
  pass "a chat works end to end through nginx (internet -> nginx -> ui -> db-api/lm-api -> PostgreSQL)"
  main_chat="$chat"
else
  fail "chat through nginx: chat='$chat' reply: $(head -c 300 <<<"$reply")"
fi

# 2. The internet reaches nginx and nothing else; the allowed neighbours do reach each service.
reach() { on "$1" curl -s -o /dev/null --max-time 3 "$2"; }
if reach inet "$front/"; then pass "internet -> nginx:80"; else fail "internet cannot reach nginx"; fi
code="$(on inet curl -s -o /dev/null -w '%{http_code}' --max-time 3 "$front/metrics" || true)"
if [ "$code" = 404 ]; then pass "nginx hides /metrics (404)"; else fail "nginx /metrics answered $code"; fi
for target in "pg 5432" "db1 8081" "db2 8081" "lm1 8082" "lm2 8082" "ui1 8080" "ui2 8080"; do
  read -r h port <<<"$target"
  if reach inet "http://${addr[$h]}:$port/"; then fail "internet reached $h:$port"; else pass "internet -> $h:$port refused (curl exit $?)"; fi
done
for target in "ui1 lm1 8082" "ui2 db2 8081" "nginx ui2 8080" "ui1 pg 5432"; do
  read -r from h port <<<"$target"
  if [ "$h" = pg ]; then
    # PostgreSQL accepts only db-api: a ui host is refused, a db-api host gets through.
    if on "$from" "$pgbin/pg_isready" -q -t 2 -h "${addr[pg]}" -p 5432; then fail "$from reached PostgreSQL"; else
      pass "$from -> PostgreSQL refused"; fi
    if on db2 "$pgbin/pg_isready" -q -t 2 -h "${addr[pg]}" -p 5432; then pass "db2 -> PostgreSQL (allowed)"; else
      fail "db2 cannot reach PostgreSQL"; fi
  elif reach "$from" "http://${addr[$h]}:$port/healthz"; then pass "$from -> $h:$port (allowed)"; else
    fail "$from cannot reach $h:$port"; fi
done

# 3. One session, its requests on different UI replicas (straight from the nginx host).
# curl keeps cookies per host: the jar of ui1 is copied for ui2, as the browser's one cookie.
jar="$tmp/jar-split"
csrf="$(new_session nginx "http://${addr[ui1]}:8080" "$jar")"
sed "s/${addr[ui1]}/${addr[ui2]}/" "$jar" >"$jar-2"
chat="$(new_chat nginx "http://${addr[ui2]}:8080" "$jar-2" "$csrf")"
r1="$(send nginx "http://${addr[ui1]}:8080" "$jar" "$csrf" "$chat" "first message via ui1")"
r2="$(send nginx "http://${addr[ui2]}:8080" "$jar-2" "$csrf" "$chat" "second message via ui2")"
body="$(page nginx "http://${addr[ui1]}:8080" "$jar" "$chat")"
if grep -q '^event: done' <<<"$r1" && grep -q '^event: done' <<<"$r2" && grep -q 'first message via ui1' <<<"$body" &&
  grep -q 'second message via ui2' <<<"$body"; then
  pass "a session works across UI replicas (chat made on ui2, messages on ui1 and ui2, page from ui1)"
else
  fail "session across UI replicas: chat='$chat' r1=$(head -c 200 <<<"$r1") r2=$(head -c 200 <<<"$r2")"
fi
upstreams="$(grep -o 'upstream=[0-9.:]*' "$tmp/nginx/access.log" | sort -u | tr '\n' ' ')"
echo "     nginx spread the requests so far over: $upstreams"

# 4. Requests/s of the UI tier through nginx: one UI replica, then two. GET of a chat page
#    (session check, db-api read, render); wrk from the internet host, 16 connections.
wrk_rps() {  # prints requests/s; 0 if any answer was not 2xx/3xx (the figure would be of errors)
  on inet wrk -t1 -c16 -d"${WRK_DURATION:-5s}" -H "Cookie: $(awk '$6 == "parley_session" {print $6 "=" $7}' "$tmp/jar-main")" \
    "$front$1" | awk '/^Requests\/sec/ {r = $2} /Non-2xx/ {bad = 1} END {print (bad ? 0 : r)}'
}
reload_nginx() {
  write_nginx_conf "$@"
  kill -HUP "${pid[nginx]}"
  sleep 1
}
runs1="" runs2=""
command -v wrk >/dev/null || echo "     (no wrk: apt-get install wrk to measure the UI tier's requests/s)"
command -v wrk >/dev/null && for _ in 1 2; do  # alternated, so that a change in the machine's load hits both
  reload_nginx ui1
  runs1+=" $(wrk_rps "$main_chat")"
  reload_nginx ui1 ui2
  runs2+=" $(wrk_rps "$main_chat")"
done
rps1="$(awk '{printf "%.0f", ($1 + $2) / 2}' <<<"$runs1")"
rps2="$(awk '{printf "%.0f", ($1 + $2) / 2}' <<<"$runs2")"
echo "     UI tier through nginx, GET $main_chat, wrk 16 connections: 1 replica$runs1 req/s (mean $rps1), 2 replicas$runs2 req/s (mean $rps2); load average $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) CPUs"
if ! command -v wrk >/dev/null; then
  :
elif awk "BEGIN{exit !($rps1 > 0 && $rps2 > 0)}"; then pass "UI tier measured with 1 and 2 replicas (ratio $(awk "BEGIN{printf \"%.2f\", $rps2/$rps1}"))"; else
  fail "UI tier load test gave no figures"; fi

# 5. Under load, stop ui2 and db2: no acknowledged message may be lost. Four writers post messages
#    through nginx; a message is acknowledged when the UI sent its "user" event (it was stored).
writer() {  # writer N: posts until $tmp/stop exists; acknowledged messages go to $tmp/acked-N
  local n=$1 j="$tmp/jar-w$1" c ch i=0 out
  c="$(new_session inet "$front" "$j")"
  ch="$(new_chat inet "$front" "$j" "$c")"
  echo "$ch" >"$tmp/chat-$n"
  : >"$tmp/acked-$n"
  : >"$tmp/failed-$n"
  while [ ! -e "$tmp/stop" ]; do
    i=$((i + 1))
    out="$(send inet "$front" "$j" "$c" "$ch" "note-$n-$i")"
    if grep -q '^event: user' <<<"$out"; then echo "note-$n-$i" >>"$tmp/acked-$n"; else echo "note-$n-$i $(tr '\n' ' ' <<<"$out" | head -c 160)" >>"$tmp/failed-$n"; fi
  done
}
for n in 1 2 3 4; do
  writer "$n" &
  pid[writer$n]=$!
done
sleep 3
db2_served="$(on ui1 curl -s --max-time 3 -H "Authorization: Bearer $PARLEY_SERVICE_TOKEN" "http://${addr[db2]}:8081/metrics" |
  awk '/^parley_http_requests_total/ {s += $2} END {print s + 0}')"
kill -TERM "${pid[ui2]}"  # nginx finds it gone and keeps to ui1
sleep 2
set_db_endpoints db1  # the endpoint leaves the Service first (as kube-proxy would), then SIGTERM
sleep 1
kill -TERM "${pid[db2]}"
sleep 3
touch "$tmp/stop"
for n in 1 2 3 4; do wait "${pid[writer$n]}" || true; unset "pid[writer$n]"; done
ui2_rc=0
wait "${pid[ui2]}" || ui2_rc=$?
db2_rc=0
wait "${pid[db2]}" || db2_rc=$?
unset "pid[ui2]" "pid[db2]"
acked=0 lost=0 failed_sends=0
for n in 1 2 3 4; do
  body="$(page inet "$front" "$tmp/jar-w$n" "$(cat "$tmp/chat-$n")")"
  while read -r m; do
    acked=$((acked + 1))
    grep -qw -- "$m" <<<"$body" || { lost=$((lost + 1)); echo "     lost: $m"; }
  done <"$tmp/acked-$n"
  failed_sends=$((failed_sends + $(wc -l <"$tmp/failed-$n")))
done
cat "$tmp"/failed-* | cut -d' ' -f2- | sed 's/"request_id":"[^"]*"//; s/chat_[0-9a-f]*//g' | sort | uniq -c | sort -rn | head -n 3 |
  sed 's/^/     not acknowledged: /'
echo "     under load: $acked messages acknowledged, $failed_sends not acknowledged (refused: the per-session reply rate limit, or a replica stopping), db2 had served $db2_served requests; ui2 exit $ui2_rc, db2 exit $db2_rc"
if ((acked > 0 && lost == 0)); then pass "stopping ui2 and db2 under load lost no acknowledged message ($acked)"; else
  fail "acknowledged messages lost: $lost of $acked"; fi
if ((ui2_rc == 0 && db2_rc == 0)); then pass "ui2 and db2 exited 0 on SIGTERM"; else fail "ui2 exit $ui2_rc, db2 exit $db2_rc"; fi
if ((db2_served > 0)); then pass "db2 served requests before it stopped"; else fail "db2 served nothing: the stop proved nothing"; fi

# 6. SIGTERM to lm2 while it streams: its streams finish, new chats go to lm1.
lm_count() {
  on ui1 curl -s --max-time 3 -H "Authorization: Bearer $PARLEY_SERVICE_TOKEN" "http://${addr[$1]}:8082/metrics" |
    awk '/^parley_lm_requests_total/ {s += $2} END {print s + 0}'
}
for s in 1 2 3; do
  spawn "stream$s" ui1 curl -sS -N --max-time 60 -H "Authorization: Bearer $PARLEY_SERVICE_TOKEN" \
    -H 'Content-Type: application/json' -d '{"prompt":"Once upon a time","max_tokens":400,"stream":true,"seed":'"$s"'}' \
    "http://${addr[lm2]}:8082/v1/completions"
done
for _ in $(seq 200); do
  started=0
  for s in 1 2 3; do grep -q '^data: {' "$tmp/stream$s.log" 2>/dev/null && started=$((started + 1)); done
  ((started == 3)) && break
  sleep 0.02
done
in_flight=0
for s in 1 2 3; do grep -q '\[DONE\]' "$tmp/stream$s.log" || in_flight=$((in_flight + 1)); done
lm1_before="$(lm_count lm1)"
set_lm_replicas lm1  # the pod leaves the headless Service's addresses, and gets SIGTERM
kill -TERM "${pid[lm2]}"
for _ in $(seq 50); do reach ui1 "http://${addr[lm2]}:8082/healthz" || break; sleep 0.1; done
new_ok=0
for k in 1 2 3 4; do
  j="$tmp/jar-lm$k"
  c="$(new_session inet "$front" "$j")"
  ch="$(new_chat inet "$front" "$j" "$c")"
  grep -q '^event: done' <<<"$(send inet "$front" "$j" "$c" "$ch" "after the drain began $k")" && new_ok=$((new_ok + 1))
done
lm1_after="$(lm_count lm1)"
finished=0
for s in 1 2 3; do
  wait "${pid[stream$s]}" || true
  unset "pid[stream$s]"
  grep -q '\[DONE\]' "$tmp/stream$s.log" && grep -q '"finish_reason":"length"' "$tmp/stream$s.log" && finished=$((finished + 1))
done
lm2_rc=0
wait "${pid[lm2]}" || lm2_rc=$?
unset "pid[lm2]"
echo "     lm2: $in_flight of 3 streams in flight at SIGTERM, $finished finished with all 400 tokens, exit $lm2_rc; 4 new chats: $new_ok answered, lm1 requests $lm1_before -> $lm1_after"
if ((in_flight > 0 && finished == 3 && lm2_rc == 0)); then pass "SIGTERM to lm2: its streams finished (drain), exit 0"; else
  fail "lm2 drain: in flight $in_flight, finished $finished, exit $lm2_rc"; fi
if ((new_ok == 4 && lm1_after - lm1_before >= 4)); then pass "new chats went to lm1 while lm2 drained"; else
  fail "new chats during lm2's drain: $new_ok of 4 answered, lm1 took $((lm1_after - lm1_before))"; fi

if ((failed)); then
  echo "multihost: FAILED (logs were in $tmp)"
  for f in "$tmp"/*.log; do echo "--- $f"; tail -n 5 "$f"; done
  exit 1
fi
echo "multihost: all checks passed"
