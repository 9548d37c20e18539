#!/usr/bin/env bash
# Every offline check of deploy/ (what can run without a cluster, a registry or Azure):
#   every script through shellcheck; yamllint of every YAML file; `kubectl kustomize` of each overlay and
#   schema + policy validation of the result (validate-k8s.cjs); `docker-compose config -q`;
#   `nginx -t` of nginx.conf; `dockerfile-utils lint` and the image's required instructions;
#   gen-secrets (random, private, no overwrite); deploy.sh --dry-run (prints, calls nothing) and
#   deploy.sh + teardown.sh against a fake az that records its calls (check-azure-calls.cjs).
# A few checks are run on broken copies too, to show that they can fail.
# Installs what it needs (apt: shellcheck yamllint docker-compose nginx-light openssl; npm, in
# tests/deploy). Exit 0 when everything passed.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cd "$repo"

need=()
for p in shellcheck yamllint docker-compose nginx-light openssl iproute2 iptables jq; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if ((${#need[@]})); then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
command -v kubectl >/dev/null || { echo "check.sh: kubectl (with kustomize) is needed" >&2; exit 1; }
if [ ! -d "$here/node_modules/kubernetes-models" ] || [ ! -d "$here/node_modules/dockerfile-utils" ]; then
  (cd "$here" && npm install --no-audit --no-fund --silent)
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0
pass() { echo "ok   $*"; }
fail() { echo "FAIL $*"; failed=1; }
# must_fail DESCRIPTION CMD...: the command must exit non-zero (a check that can fail).
must_fail() {
  local what=$1
  shift
  if "$@" >/dev/null 2>&1; then fail "$what: the check accepted a broken copy"; else pass "$what: rejects a broken copy"; fi
}

# A working copy of deploy/ with secrets, as an operator would have it.
cp -r deploy "$tmp/deploy"
cp deploy/docker/Dockerfile "$tmp/Dockerfile"
"$tmp/deploy/gen-secrets" >/dev/null
for o in dev prod; do "$tmp/deploy/gen-secrets" --dir "$tmp/deploy/k8s/overlays/$o/secrets" >/dev/null; done

echo "== shellcheck"
scripts=(deploy/gen-secrets deploy/docker/parley-healthcheck deploy/azure/*.sh tests/deploy/check.sh tests/deploy/fake-az/az
  tests/deploy/multihost.sh bench/affinity/run.sh)
[ -f scripts/test-containers ] && scripts+=(scripts/test-containers)
if shellcheck -x "${scripts[@]}"; then pass "shellcheck: ${scripts[*]}"; else fail shellcheck; fi

echo "== yamllint"
mapfile -t yamls < <(find deploy tests/deploy -name node_modules -prune -o \( -name '*.yaml' -o -name '*.yml' \) -print | sort)
if yamllint -s -c tests/deploy/yamllint.yaml "${yamls[@]}"; then pass "yamllint: ${#yamls[@]} files"; else fail yamllint; fi

echo "== Kubernetes overlays"
for o in dev prod; do
  if kubectl kustomize "$tmp/deploy/k8s/overlays/$o" >"$tmp/$o.yaml" 2>"$tmp/$o.err"; then
    pass "kubectl kustomize overlays/$o"
    if node tests/deploy/validate-k8s.cjs "$o" "$tmp/$o.yaml"; then pass "overlays/$o: schemas and policies"; else fail "overlays/$o: validation"; fi
  else
    cat "$tmp/$o.err"; fail "kubectl kustomize overlays/$o"
  fi
done
sed -e 's/containerPort: 8081/containerPort: "8081x"/' "$tmp/prod.yaml" >"$tmp/bad-schema.yaml"
must_fail "schema validation" node tests/deploy/validate-k8s.cjs prod "$tmp/bad-schema.yaml"
sed -e 's/name: ui$/name: db-api/' "$tmp/prod.yaml" >"$tmp/bad-ingress.yaml"
must_fail "policy validation (Ingress to db-api)" node tests/deploy/validate-k8s.cjs prod "$tmp/bad-ingress.yaml"

echo "== compose"
if docker-compose -f "$tmp/deploy/compose.yaml" config -q; then pass "docker-compose config"; else fail "docker-compose config"; fi
ports=$(docker-compose -f "$tmp/deploy/compose.yaml" config | /usr/bin/python3 -c '
import sys, yaml
services = yaml.safe_load(sys.stdin)["services"]
print(" ".join(sorted(name for name, s in services.items() if s.get("ports"))))')
if [ "$ports" = nginx ]; then pass "compose: only nginx publishes ports"; else fail "compose: services publishing ports: $ports"; fi
sed -e 's/^  postgres:$/  postgres:\n    bogus_key: 1/' "$tmp/deploy/compose.yaml" >"$tmp/deploy/bad-compose.yaml"
must_fail "docker-compose config" docker-compose -f "$tmp/deploy/bad-compose.yaml" config -q

echo "== nginx"
# The real file, with the compose service names and certificate paths swapped for local ones.
sed -e 's/server ui-[12]:8080/server 127.0.0.1:8080/' -e "s|/etc/nginx/tls|$tmp/deploy/secrets/tls|" \
  deploy/nginx/nginx.conf >"$tmp/nginx.conf"
if nginx -t -q -c "$tmp/nginx.conf" -p "$tmp" 2>"$tmp/nginx.err"; then pass "nginx -t"; else cat "$tmp/nginx.err"; fail "nginx -t"; fi
for want in 'least_conn;' 'proxy_buffering off;' 'proxy_read_timeout 600s;' 'X-Forwarded-For' 'X-Forwarded-Proto' \
            'listen 443 ssl' 'client_max_body_size' 'limit_req_zone' 'limit_conn_zone'; do
  grep -qF -- "$want" deploy/nginx/nginx.conf || fail "nginx.conf lacks $want"
done
pass "nginx.conf: least_conn, SSE proxying, forwarded headers, TLS, limits"

echo "== Dockerfile"
lint=$(npx --prefix tests/deploy dockerfile-utils lint deploy/docker/Dockerfile 2>&1) || true
if [ -z "$lint" ]; then pass "dockerfile-utils lint"; else echo "$lint"; fail "dockerfile-utils lint"; fi
printf 'FROM debian:bookworm-slim\nMAINTAINER someone\nHEALTHCHECK CMD a\nHEALTHCHECK CMD b\nFROM\n' >"$tmp/Dockerfile.bad"
bad_lint=$(npx --prefix tests/deploy dockerfile-utils lint "$tmp/Dockerfile.bad" 2>&1) || true
if [ -n "$bad_lint" ]; then pass "dockerfile-utils lint: rejects a broken Dockerfile"; else fail "dockerfile-utils lint accepted a broken Dockerfile"; fi
df=deploy/docker/Dockerfile
[ "$(grep -c '^FROM debian:bookworm' "$df")" = 2 ] || fail "Dockerfile: two bookworm stages"
grep -q '^USER 10001' "$df" || fail "Dockerfile: non-root USER"
grep -q '^HEALTHCHECK ' "$df" || fail "Dockerfile: HEALTHCHECK"
grep -q '^ENTRYPOINT \["/usr/local/bin/parley"\]' "$df" || fail "Dockerfile: parley entrypoint"
for ignored in .git build models '\*\*/\*.gguf'; do grep -q "^$ignored\$" .dockerignore || fail ".dockerignore lacks $ignored"; done
pass "Dockerfile: multi-stage bookworm, non-root, HEALTHCHECK, parley entrypoint; .dockerignore"

echo "== gen-secrets"
s="$tmp/deploy/secrets"
if [ "$(stat -c %a "$s/session.env")" = 600 ] && [ "$(stat -c %a "$s/tls/key.pem")" = 600 ]; then pass "gen-secrets: files are private"; else fail "gen-secrets: modes"; fi
if grep -Eq '^SESSION_KEY=[0-9a-f]{64}$' "$s/session.env" && grep -Eq '^PARLEY_SERVICE_TOKEN=[0-9a-f]{64}$' "$s/service-token.env" \
   && grep -Eq '^POSTGRES_PASSWORD=[0-9a-f]{48}$' "$s/postgres.env"; then
  pass "gen-secrets: value formats"
else
  fail "gen-secrets: value formats"
fi
if cmp -s "$s/session.env" "$tmp/deploy/k8s/overlays/dev/secrets/session.env"; then fail "gen-secrets: two runs gave the same key"; else pass "gen-secrets: random values"; fi
must_fail "gen-secrets without --force over existing secrets" "$tmp/deploy/gen-secrets"

echo "== Azure scripts against a fake az"
export FAKE_AZ_SECRET=vault-secret-0f1e2d3c4b5a69788796a5b4c3d2e1f0
fakepath="$repo/tests/deploy/fake-az:$PATH"
: >"$tmp/dry.log"
if PATH=$fakepath FAKE_AZ_LOG="$tmp/dry.log" deploy/azure/deploy.sh --dry-run >"$tmp/dry.out" 2>&1; then
  if [ ! -s "$tmp/dry.log" ] && [ "$(grep -c '^+ az ' "$tmp/dry.out")" -ge 30 ]; then
    pass "deploy.sh --dry-run: prints $(grep -c '^+ az ' "$tmp/dry.out") az commands, runs none"
  else
    fail "deploy.sh --dry-run ran az or printed too little"
  fi
else
  cat "$tmp/dry.out"; fail "deploy.sh --dry-run"
fi
echo "placeholder model" >"$tmp/model.gguf"
: >"$tmp/az.log"
if PATH=$fakepath FAKE_AZ_LOG="$tmp/az.log" PARLEY_DOMAIN=chat.example.com PARLEY_MODEL_FILE="$tmp/model.gguf" \
    deploy/azure/deploy.sh >"$tmp/deploy.out" 2>&1; then
  pass "deploy.sh ran to the end ($(wc -l <"$tmp/az.log") az calls)"
  if node tests/deploy/check-azure-calls.cjs "$tmp/az.log" "$tmp/deploy.out" "$FAKE_AZ_SECRET" chat.example.com; then
    pass "deploy.sh: recorded calls"
  else
    fail "deploy.sh: recorded calls"
  fi
else
  cat "$tmp/deploy.out"; fail "deploy.sh against the fake az"
fi
# Without the redaction of the password the checks must notice it in the output.
mkdir -p "$tmp/leaky/deploy"
cp -r deploy/azure "$tmp/leaky/deploy/azure"
sed -i "s/^mask \"\\\$pg_password\"\$/:/" "$tmp/leaky/deploy/azure/deploy.sh"
: >"$tmp/leaky.log"
PATH=$fakepath FAKE_AZ_LOG="$tmp/leaky.log" PARLEY_DOMAIN=chat.example.com "$tmp/leaky/deploy/azure/deploy.sh" >"$tmp/leaky.out" 2>&1 || true
must_fail "secret-in-output check" node tests/deploy/check-azure-calls.cjs "$tmp/leaky.log" "$tmp/leaky.out" "$FAKE_AZ_SECRET" chat.example.com
: >"$tmp/teardown.log"
if PATH=$fakepath FAKE_AZ_LOG="$tmp/teardown.log" deploy/azure/teardown.sh --yes --purge >/dev/null 2>&1 \
   && grep -qP '^group\tdelete\t--name\tparley-rg\t--yes$' "$tmp/teardown.log" && grep -qP '^keyvault\tpurge\t' "$tmp/teardown.log"; then
  pass "teardown.sh: deletes the resource group and purges the vault"
else
  fail "teardown.sh"
fi

echo
if [ "$failed" = 0 ]; then echo "tests/deploy/check.sh: all passed"; else echo "tests/deploy/check.sh: FAILED"; fi
exit "$failed"
