#!/usr/bin/env bash
# lm-api benchmark (issue 4): aggregate generated tokens/s and time to first token (mean, p50, p99)
# at 1, 4, 8 and 16 concurrent streams, 200-token prompts, 128 generated tokens each, on a synth
# model of the qwen2.5-0.5b shape in q5_k_m, lm-api with --threads 2 --slots 8 --ctx 8192; then
#   - 4 concurrent multi-turn chats against an lm-api with --ctx 1024 (must not fail; the chats
#     outgrow the context by turn 4, and like Parley's UI the client asks lm-api to drop the oldest
#     turns with truncate_history: a client that sends more than fits gets a 400 stating the limit), and
#   - one 5-turn chat (TTFT per turn: turn 5 should be within 1.5x of turn 1, prefix reuse).
# The driver is `parley loadtest --scenario lm`; each case's JSON is kept in $OUT.
#
#   bench/lm/run.sh [path/to/parley]      (default: $PARLEY_BINARY, build/release/parley)
# Environment: DURATION per case (default 60s; the 5-turn chat runs MT_DURATION, default 100s, for
#   about 5 chats), CASES ("1 4 8 16"), THREADS (2), OUT (a temp dir),
#   MODEL (default build/models/qwen2.5-0.5b-q5_k_m-synth.gguf, made when missing), SKIP_EXTRA=1
#   to run only the stream cases. Run it on a quiet machine: it measures the CPU.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
parley="${1:-${PARLEY_BINARY:-$root/build/release/parley}}"
[ -x "$parley" ] || { echo "run.sh: no parley binary at $parley (build it or pass its path)" >&2; exit 1; }
command -v jq >/dev/null || { echo "run.sh: jq is not installed (apt-get install jq)" >&2; exit 1; }
duration="${DURATION:-60s}"
cases="${CASES:-1 4 8 16}"
threads="${THREADS:-2}"
model="${MODEL:-$root/build/models/qwen2.5-0.5b-q5_k_m-synth.gguf}"
vocab="$root/../shared/testdata/tokenizer/ggml-vocab-qwen2-reconstructed.gguf"
out="${OUT:-$(mktemp -d /tmp/parley-bench-lm.XXXXXX)}"
mkdir -p "$out"

if [ ! -f "$model" ]; then
  echo "making $model (synth: qwen2.5-0.5b shape, q5_k_m, random weights)"
  mkdir -p "$(dirname "$model")"
  "$parley" gguf synth --shape qwen2.5-0.5b --type q5_k_m --vocab "$vocab" -o "$model"
fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
export PARLEY_SERVICE_TOKEN="${PARLEY_SERVICE_TOKEN:-bench-$RANDOM$RANDOM}"
api_pid=""
stop_api() { if [ -n "$api_pid" ]; then kill "$api_pid" 2>/dev/null; wait "$api_pid" 2>/dev/null || true; api_pid=""; fi; }
trap stop_api EXIT

# start_api CTX: lm-api on a free port; sets $url.
start_api() {
  local port; port="$(free_port)"
  "$parley" lm-api --model "$model" --port "$port" --threads "$threads" --slots 8 --ctx "$1" \
    >"$out/lm-api-ctx$1.log" 2>&1 &
  api_pid=$!
  url="http://127.0.0.1:$port"
  for _ in $(seq 1 600); do
    curl -sf "$url/healthz" >/dev/null 2>&1 && return 0
    kill -0 "$api_pid" 2>/dev/null || { cat "$out/lm-api-ctx$1.log" >&2; exit 1; }
    sleep 0.1
  done
  echo "lm-api did not start" >&2; exit 1
}

row() {  # row NAME FILE
  jq -r --arg name "$1" '[$name, .users, .overall.requests, (.overall.errors | add),
      (.generation.completion_tokens / (if .generation.count > 0 then .generation.count else 1 end) | floor),
      (.generation.output_tokens_per_s * 10 | round / 10),
      (.generation.ttft_s.mean * 100 | round / 100), (.generation.ttft_s.p50 * 100 | round / 100),
      (.generation.ttft_s.p99 * 100 | round / 100), (.generation.itl_s.p50 * 1000 | round)] | @tsv' "$2"
}
header() { printf 'case\tstreams\trequests\terrors\ttokens/req\ttokens/s\tTTFT mean s\tTTFT p50 s\tTTFT p99 s\tITL p50 ms\n'; }

start_api 8192
echo "lm-api --threads $threads --slots 8 --ctx 8192 at $url; results in $out"
for n in $cases; do
  echo "== $n concurrent streams, 200-token prompts, 128 tokens, $duration"
  "$parley" loadtest --url "$url" --scenario lm --users "$n" --duration "$duration" --prompt-tokens 200 \
    --max-tokens 128 --json "$out/streams-$n.json" --plot "$out/streams-$n.svg" --quiet --drain 600s | tail -n 12
done
if [ "${SKIP_EXTRA:-0}" != 1 ]; then
  echo "== one chat, 5 turns (prefix reuse), 200-token messages, 128 tokens"
  "$parley" loadtest --url "$url" --scenario lm --users 1 --turns 5 --duration "${MT_DURATION:-100s}" --prompt-tokens 200 \
    --max-tokens 128 --json "$out/multiturn.json" --quiet --drain 600s | tail -n 12
  stop_api
  start_api 1024
  echo "== --ctx 1024: 4 concurrent chats, 5 turns each (histories outgrow the context; truncate_history as the UI sends)"
  "$parley" loadtest --url "$url" --scenario lm --users 4 --turns 5 --duration "$duration" --prompt-tokens 200 \
    --max-tokens 128 --truncate-history --json "$out/ctx1024.json" --quiet --drain 600s | tail -n 14
fi
stop_api

echo
echo "Summary ($(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg))"
{
  header
  for n in $cases; do row "streams" "$out/streams-$n.json"; done
  [ -f "$out/ctx1024.json" ] && row "ctx1024 chats" "$out/ctx1024.json"
} | column -t -s $'\t'
if [ -f "$out/multiturn.json" ]; then
  echo
  echo "Multi-turn TTFT (one chat):"
  jq -r '.generation.ttft_by_turn[] | "  turn \(.turn): n=\(.count) mean \(.mean * 1000 | round) ms  p50 \(.p50 * 1000 | round) ms"' "$out/multiturn.json"
  jq -r '.generation.ttft_by_turn as $t | if ($t | length) >= 5 then "  turn 5 / turn 1 mean TTFT: \(($t[4].mean / $t[0].mean) * 100 | round / 100)" else "  (fewer than 5 turns completed: raise DURATION)" end' "$out/multiturn.json"
fi
