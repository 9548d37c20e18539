#!/usr/bin/env bash
# Browser end-to-end tests of the UI: starts `parley serve` with a fresh data directory, then drives
# headless Debian chromium with playwright-core (ui.e2e.mjs). The model is a random-weight model of
# the qwen2.5-0.5b shape (made once with `parley gguf synth`, ~350 MB under build/models): it writes
# tens of tokens per second and rarely ends early, so a reply is still streaming when the tests
# watch it grow or press Stop (the tiny stories260K model finishes 400 tokens in half a second).
#
#   tests/e2e/run.sh                       # uses build/release/parley
#   PARLEY_BIN=build/ui/parley tests/e2e/run.sh
#
# Installs what it needs: chromium (apt, when missing) and the npm packages of package.json.
# Screenshots and results: test-output/e2e/. Exit 0 when all pass (or when chromium cannot be
# installed: then it prints SKIP and why), 1 on a failure.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="${PARLEY_BIN:-$root/build/release/parley}"
model="${PARLEY_E2E_MODEL:-$root/build/models/e2e-qwen2.5-0.5b-q4_0-synth.gguf}"
vocab="$root/../shared/testdata/tokenizer/ggml-vocab-qwen2-reconstructed.gguf"
out="${OUT_DIR:-$root/test-output/e2e}"

if [[ ! -x "$bin" ]]; then
  echo "e2e: no parley binary at $bin (build it, or set PARLEY_BIN)" >&2
  exit 1
fi
if [[ ! -f "$model" && -z "${PARLEY_E2E_MODEL:-}" ]]; then
  echo "e2e: making $model (parley gguf synth, random weights)"
  mkdir -p "$(dirname "$model")"
  "$bin" gguf synth --shape qwen2.5-0.5b --type q4_0 --vocab "$vocab" -o "$model.tmp" >/dev/null
  mv "$model.tmp" "$model"
fi
if [[ ! -f "$model" ]]; then
  echo "e2e: no model at $model (set PARLEY_E2E_MODEL to a GGUF file)" >&2
  exit 1
fi
export PARLEY_E2E_MODEL="$model" PARLEY_BIN="$bin"

chromium_bin="${CHROMIUM:-$(command -v chromium || true)}"
if [[ -z "$chromium_bin" ]]; then
  echo "e2e: installing chromium (apt)"
  sudo_cmd=()
  [[ $(id -u) -ne 0 ]] && command -v sudo >/dev/null && sudo_cmd=(sudo -n)
  if ! { "${sudo_cmd[@]}" apt-get install -y --no-install-recommends chromium fonts-dejavu-core >/dev/null 2>&1 ||
         { "${sudo_cmd[@]}" apt-get update >/dev/null 2>&1 &&
           "${sudo_cmd[@]}" apt-get install -y --no-install-recommends chromium fonts-dejavu-core >/dev/null 2>&1; }; }; then
    echo "SKIP e2e: chromium is not installed and could not be installed with apt-get (no root or no network)."
    exit 0
  fi
  chromium_bin="$(command -v chromium)"
fi

if [[ ! -d "$here/node_modules/playwright-core" ]]; then
  echo "e2e: npm install (playwright-core)"
  (cd "$here" && npm install --no-audit --no-fund --silent)
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/parley-e2e.XXXXXX")"
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')"
mkdir -p "$out"
env -u SESSION_KEY -u SESSION_KEYS PARLEY_ACCESS_LOG=false \
  "$bin" serve --model "$model" --port "$port" --data-dir "$work/data" --ctx 2048 --max-tokens 200 \
  >"$out/server.log" 2>&1 &
server_pid=$!
ready=0
for _ in $(seq 1 1200); do
  if curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; then ready=1; break; fi
  if ! kill -0 "$server_pid" 2>/dev/null; then echo "e2e: parley serve exited:"; cat "$out/server.log"; exit 1; fi
  sleep 0.1
done
if [[ $ready != 1 ]]; then echo "e2e: parley serve not ready after 120 s:"; cat "$out/server.log"; exit 1; fi

BASE_URL="http://127.0.0.1:$port" OUT_DIR="$out" CHROMIUM="$chromium_bin" node "$here/ui.e2e.mjs"
