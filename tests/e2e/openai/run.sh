#!/usr/bin/env bash
# The official OpenAI Node.js SDK (npm openai@^6) against a live `parley lm-api` on the tiny model.
# Usage: tests/e2e/openai/run.sh [path/to/parley]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
parley="${1:-$root/build/release/parley}"
shared="$root/../shared"

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "openai-sdk: node and npm are required" >&2
  exit 1
fi
if [ ! -d "$here/node_modules/openai" ]; then
  (cd "$here" && npm install --no-audit --no-fund --silent)
fi

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
log=$(mktemp)
"$parley" lm-api --model "$shared/models/stories260K.gguf" --port "$port" --api-key sdk-test-key --ctx 1024 --threads 1 >"$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 100); do
  curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done
LM_API_URL="http://127.0.0.1:$port/v1" GOLDEN="$shared/models/golden/stories260K-once-upon-a-time-64.txt" node "$here/sdk_test.mjs"
