#!/usr/bin/env bash
# Effect of LLM-aware routing (issue 6): multi-turn time to first token through the UI with two
# lm-api replicas, chat affinity on (each chat goes to the replica holding its prefix) and off (the
# least busy replica, ties in turn: what a balanced Service does).
#
#   bench/affinity/run.sh [path/to/parley]     (default: $PARLEY_BINARY, build/release/parley)
#
# Runs on 127.0.0.1: db-api (SQLite), two lm-api (--threads 1 each), one ui per mode, and
# `parley loadtest --scenario chat` (USERS chats of TURNS turns, WORDS words per message, replies of
# MAX_TOKENS tokens, no think time) for DURATION per mode; prints TTFT per turn for both modes and
# the prompt tokens the replicas served from their prefix cache. The model is a synth of the
# qwen2.5-0.5b shape in q8_0 with LAYERS layers (random weights: the cost is real, the text is not),
# made when missing; MODEL= another GGUF. JSON results stay in $OUT.
# Environment: DURATION (40s), USERS (2), TURNS (4), WORDS (60), MAX_TOKENS (16), LAYERS (8), OUT.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
parley="${1:-${PARLEY_BINARY:-$root/build/release/parley}}"
[ -x "$parley" ] || { echo "run.sh: no parley binary at $parley (build it or pass its path)" >&2; exit 1; }
command -v jq >/dev/null || { echo "run.sh: jq is not installed (apt-get install jq)" >&2; exit 1; }
duration="${DURATION:-40s}"
users="${USERS:-2}"
turns="${TURNS:-4}"
words="${WORDS:-60}"
max_tokens="${MAX_TOKENS:-16}"
layers="${LAYERS:-8}"
model="${MODEL:-$root/build/models/qwen2.5-0.5b-q8_0-L$layers-synth.gguf}"
vocab="$root/../shared/testdata/tokenizer/ggml-vocab-qwen2-reconstructed.gguf"
out="${OUT:-$(mktemp -d /tmp/parley-bench-affinity.XXXXXX)}"
mkdir -p "$out"

if [ ! -f "$model" ]; then
  echo "making $model (synth: qwen2.5-0.5b shape, $layers layers, q8_0, random weights)"
  mkdir -p "$(dirname "$model")"
  "$parley" gguf synth --shape qwen2.5-0.5b --layers "$layers" --type q8_0 --vocab "$vocab" -o "$model"
fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PARLEY_SERVICE_TOKEN="bench-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
SESSION_KEY="$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export PARLEY_SERVICE_TOKEN SESSION_KEY
export PARLEY_GENERATIONS_PER_MINUTE=0  # no per-session reply rate limit: this measures TTFT

pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

# wait_up URL PID LOG: poll /healthz until it answers (the process must stay alive).
wait_up() {
  for _ in $(seq 1 1200); do
    curl -sf "$1/healthz" >/dev/null 2>&1 && return 0
    kill -0 "$2" 2>/dev/null || { cat "$3" >&2; exit 1; }
    sleep 0.1
  done
  echo "run.sh: $1 did not come up" >&2
  exit 1
}

db_port="$(free_port)"
"$parley" db-api --port "$db_port" --threads 1 --database "sqlite:$out/chats.sqlite" >"$out/db-api.log" 2>&1 &
pids+=($!)
wait_up "http://127.0.0.1:$db_port" "$!" "$out/db-api.log"
lm_urls=""
# lm_sum NAME: a counter summed over both lm-api replicas.
lm_sum() {
  local u total=0 v
  for u in ${lm_urls//,/ }; do
    v="$(curl -sf -H "Authorization: Bearer $PARLEY_SERVICE_TOKEN" "$u/metrics" | awk -v n="$1" '$1 == n {print $2}')"
    total="$(awk -v a="$total" -v b="${v:-0}" 'BEGIN {printf "%d", a + b}')"
  done
  echo "$total"
}
for i in 1 2; do
  port="$(free_port)"
  "$parley" lm-api --model "$model" --port "$port" --threads 1 --slots 4 --ctx 4096 >"$out/lm-api-$i.log" 2>&1 &
  pids+=($!)
  wait_up "http://127.0.0.1:$port" "$!" "$out/lm-api-$i.log"
  lm_urls="$lm_urls${lm_urls:+,}http://127.0.0.1:$port"
done
echo "db-api :$db_port, lm-api $lm_urls; $users chats x $turns turns, $words words/message, $max_tokens tokens/reply, $duration per mode; results in $out"

for mode in on off; do
  ui_port="$(free_port)"
  "$parley" ui --port "$ui_port" --threads 1 --db-api "http://127.0.0.1:$db_port" --lm-api "$lm_urls" \
    --lm-affinity "$mode" --max-tokens "$max_tokens" >"$out/ui-$mode.log" 2>&1 &
  ui_pid=$!
  pids+=("$ui_pid")
  wait_up "http://127.0.0.1:$ui_port" "$ui_pid" "$out/ui-$mode.log"
  echo "== affinity $mode"
  evaluated_before="$(lm_sum parley_lm_prompt_tokens_total)"
  reused_before="$(lm_sum parley_lm_prefix_cache_hit_tokens_total)"
  "$parley" loadtest --url "http://127.0.0.1:$ui_port" --scenario chat --users "$users" --turns "$turns" \
    --prompt-tokens "$words" --duration "$duration" --drain 120s --quiet --json "$out/affinity-$mode.json" | tail -n 8
  evaluated=$(($(lm_sum parley_lm_prompt_tokens_total) - evaluated_before))
  reused=$(($(lm_sum parley_lm_prefix_cache_hit_tokens_total) - reused_before))
  echo "$evaluated $reused" >"$out/prefill-$mode.txt"
  kill "$ui_pid"
  wait "$ui_pid" 2>/dev/null || true
done

echo
echo "TTFT per turn (mean / p50 ms; count), two lm-api replicas, load average $(cut -d' ' -f1-3 /proc/loadavg):"
printf 'turn\taffinity on\t\t\taffinity off\t\t\toff/on (mean)\n'
jq -r -n --slurpfile on "$out/affinity-on.json" --slurpfile off "$out/affinity-off.json" '
  ($on[0].generation.ttft_by_turn | map({key: (.turn|tostring), value: .}) | from_entries) as $a |
  ($off[0].generation.ttft_by_turn | map({key: (.turn|tostring), value: .}) | from_entries) as $b |
  ($a | keys | map(tonumber) | sort)[] as $t | ($t|tostring) as $k |
  [$k,
   "\(($a[$k].mean*1000)|round) / \(($a[$k].p50*1000)|round) (\($a[$k].count))",
   "\(($b[$k].mean*1000)|round) / \(($b[$k].p50*1000)|round) (\($b[$k].count // 0))",
   (if $b[$k] then (($b[$k].mean / $a[$k].mean) * 100 | round / 100 | tostring) else "-" end)] | @tsv'
for mode in on off; do
  read -r evaluated reused <"$out/prefill-$mode.txt"
  echo "affinity $mode: $(jq .generation.count "$out/affinity-$mode.json") replies; the replicas evaluated $evaluated prompt tokens and reused $reused from their prefix caches ($((100 * reused / (evaluated + reused + 1)))%)"
done
