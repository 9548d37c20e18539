#!/usr/bin/env bash
# shellcheck disable=SC2153  # NAME and the other settings come from common.sh
# Deploys Parley to Azure Container Apps, as the original app was deployed:
#   resource group -> VNET with a Container Apps subnet and a PostgreSQL subnet -> Key Vault with
#   generated secrets -> user-assigned identity (reads the vault, pulls from the registry) ->
#   private PostgreSQL Flexible Server -> registry, image built and pushed (az acr build) ->
#   Azure Files share for the model -> Container Apps environment in the VNET -> three apps from one
#   image: ui (external ingress), db-api and lm-api (internal ingress), each with an HTTP scale
#   rule (concurrent requests per replica: ui 10, db-api 10, lm-api 2; min 1, max 5) ->
#   custom domain with a managed certificate (when PARLEY_DOMAIN is set).
# Usage: deploy/azure/deploy.sh [--dry-run]   (settings: see deploy/azure/common.sh)
# Safe to run again: secrets that exist in the vault are kept; create commands update in place.
# Secrets: generated into the vault from files (never on a command line), read by the apps through
# Key Vault references; only the PostgreSQL admin password passes through this script (to create the
# server) and it is never printed.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
# shellcheck source=deploy/azure/common.sh
source "$here/common.sh"
parse_common_args "$@"

TAG=${PARLEY_TAG:-$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo latest)}
LM_CONCURRENCY=${PARLEY_LM_CONCURRENCY:-2}
MODEL_NAME=${PARLEY_MODEL_NAME:-model.gguf}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [ "$DRY_RUN" != 1 ]; then
  command -v az >/dev/null || { echo "deploy.sh: the Azure CLI (az) is needed" >&2; exit 1; }
  command -v openssl >/dev/null || { echo "deploy.sh: openssl is needed" >&2; exit 1; }
fi

echo "== resource group and network" >&2
run az group create --name "$RG" --location "$LOCATION" --output none
run az network vnet create --resource-group "$RG" --name "$VNET" --location "$LOCATION" \
  --address-prefixes 10.0.0.0/16 --output none
run az network vnet subnet create --resource-group "$RG" --vnet-name "$VNET" --name apps \
  --address-prefixes 10.0.0.0/23 --delegations Microsoft.App/environments --output none
run az network vnet subnet create --resource-group "$RG" --vnet-name "$VNET" --name postgres \
  --address-prefixes 10.0.2.0/24 --delegations Microsoft.DBforPostgreSQL/flexibleServers --output none
apps_subnet=$(value apps-subnet-id az network vnet subnet show --resource-group "$RG" --vnet-name "$VNET" \
  --name apps --query id --output tsv)

echo "== identity and Key Vault" >&2
run az identity create --resource-group "$RG" --name "$IDENTITY" --location "$LOCATION" --output none
identity_id=$(value identity-id az identity show --resource-group "$RG" --name "$IDENTITY" --query id --output tsv)
identity_principal=$(value identity-principal-id az identity show --resource-group "$RG" --name "$IDENTITY" \
  --query principalId --output tsv)
run az keyvault create --resource-group "$RG" --name "$KV" --location "$LOCATION" \
  --enable-rbac-authorization true --retention-days 7 --output none
kv_id=$(value keyvault-id az keyvault show --name "$KV" --query id --output tsv)
kv_uri=$(value keyvault-uri az keyvault show --name "$KV" --query properties.vaultUri --output tsv)
kv_uri=${kv_uri%/}
me=$(value signed-in-user-id az ad signed-in-user show --query id --output tsv)
run az role assignment create --assignee-object-id "$me" --assignee-principal-type User \
  --role "Key Vault Secrets Officer" --scope "$kv_id" --output none
run az role assignment create --assignee-object-id "$identity_principal" --assignee-principal-type ServicePrincipal \
  --role "Key Vault Secrets User" --scope "$kv_id" --output none

# ensure_secret NAME BYTES: a random hex secret in the vault, written from a 0600 file.
ensure_secret() {
  local name=$1 bytes=$2
  if [ "$DRY_RUN" != 1 ] && az keyvault secret show --vault-name "$KV" --name "$name" --query id --output none 2>/dev/null; then
    echo "secret $name exists: kept" >&2
    return 0
  fi
  local file="$work/$name"
  (umask 077 && { [ "$DRY_RUN" = 1 ] || openssl rand -hex "$bytes" >"$file"; })
  run az keyvault secret set --vault-name "$KV" --name "$name" --file "$file" --output none
  rm -f "$file"
}
ensure_secret parley-service-token 32
ensure_secret session-key 32
ensure_secret postgres-password 24

echo "== PostgreSQL Flexible Server (private, in the VNET)" >&2
pg_password=$(secret_value az keyvault secret show --vault-name "$KV" --name postgres-password --query value --output tsv)
mask "$pg_password"
run az postgres flexible-server create --resource-group "$RG" --name "$PG" --location "$LOCATION" \
  --version 15 --tier Burstable --sku-name Standard_B1ms --storage-size 32 --backup-retention 14 \
  --admin-user parley --admin-password "$pg_password" \
  --vnet "$VNET" --subnet postgres --private-dns-zone "$PG.private.postgres.database.azure.com" \
  --public-access Disabled --yes --output none
unset pg_password
run az postgres flexible-server db create --resource-group "$RG" --server-name "$PG" --database-name parley --output none

echo "== registry and image" >&2
run az acr create --resource-group "$RG" --name "$ACR" --location "$LOCATION" --sku Basic \
  --admin-enabled false --output none
acr_id=$(value registry-id az acr show --name "$ACR" --query id --output tsv)
acr_server=$(value registry-server az acr show --name "$ACR" --query loginServer --output tsv)
run az role assignment create --assignee-object-id "$identity_principal" --assignee-principal-type ServicePrincipal \
  --role AcrPull --scope "$acr_id" --output none
run az acr build --registry "$ACR" --image "parley:$TAG" --file "$repo/deploy/docker/Dockerfile" "$repo"
image="$acr_server/parley:$TAG"

echo "== model share" >&2
run az storage account create --resource-group "$RG" --name "$STORAGE" --location "$LOCATION" \
  --sku Standard_LRS --kind StorageV2 --min-tls-version TLS1_2 --allow-blob-public-access false --output none
run az storage share-rm create --resource-group "$RG" --storage-account "$STORAGE" --name models \
  --quota 20 --output none
storage_key=$(secret_value az storage account keys list --resource-group "$RG" --account-name "$STORAGE" \
  --query "[0].value" --output tsv)
mask "$storage_key"
if [ -n "${PARLEY_MODEL_FILE:-}" ]; then
  run az storage file upload --account-name "$STORAGE" --account-key "$storage_key" --share-name models \
    --source "$PARLEY_MODEL_FILE" --path "$MODEL_NAME" --output none
fi

echo "== Container Apps environment" >&2
run az containerapp env create --resource-group "$RG" --name "$ENV_NAME" --location "$LOCATION" \
  --infrastructure-subnet-resource-id "$apps_subnet" --internal-only false --output none
run az containerapp env storage set --resource-group "$RG" --name "$ENV_NAME" --storage-name models \
  --azure-file-account-name "$STORAGE" --azure-file-account-key "$storage_key" \
  --azure-file-share-name models --access-mode ReadOnly --output none
unset storage_key
env_id=$(value environment-id az containerapp env show --resource-group "$RG" --name "$ENV_NAME" --query id --output tsv)

# app_yaml NAME ROLE PORT EXTERNAL CPU MEMORY CONCURRENCY DRAIN_S SECRETS ENV [extra]: the Container
# App definition. SECRETS: "app-secret-name=vault-secret-name ..." (Key Vault references read by the
# identity); ENV: "NAME=value ..." where a value "secretref:x" refers to an app secret.
app_yaml() {
  local name=$1 role=$2 port=$3 external=$4 cpu=$5 memory=$6 concurrency=$7 drain=$8 secrets=$9 envs=${10}
  local s e grace=$((drain + 10))
  cat <<YAML
location: $LOCATION
identity:
  type: UserAssigned
  userAssignedIdentities:
    $identity_id: {}
properties:
  environmentId: $env_id
  configuration:
    activeRevisionsMode: Single
    ingress:
      external: $external
      targetPort: $port
      transport: http
      allowInsecure: false
    registries:
      - server: $acr_server
        identity: $identity_id
    secrets:
YAML
  for s in $secrets; do
    printf '      - name: %s\n        keyVaultUrl: %s/secrets/%s\n        identity: %s\n' \
      "${s%%=*}" "$kv_uri" "${s#*=}" "$identity_id"
  done
  cat <<YAML
  template:
    terminationGracePeriodSeconds: $grace
    containers:
      - name: $role
        image: $image
        args: [$role, --port, "$port"]
        resources:
          cpu: $cpu
          memory: $memory
        probes:
          - type: Startup
            httpGet: {path: /healthz, port: $port}
            periodSeconds: 5
            failureThreshold: 60
          - type: Liveness
            httpGet: {path: /healthz, port: $port}
            periodSeconds: 10
          - type: Readiness
            httpGet: {path: /readyz, port: $port}
            periodSeconds: 5
        env:
          - name: PARLEY_DRAIN_TIMEOUT
            value: ${drain}s
YAML
  for e in $envs; do
    if [[ ${e#*=} == secretref:* ]]; then
      printf '          - name: %s\n            secretRef: %s\n' "${e%%=*}" "${e#*=secretref:}"
    else
      printf '          - name: %s\n            value: "%s"\n' "${e%%=*}" "${e#*=}"
    fi
  done
  if [ "$role" = lm-api ]; then
    cat <<YAML
        volumeMounts:
          - volumeName: models
            mountPath: /models
    volumes:
      - name: models
        storageType: AzureFile
        storageName: models
YAML
  fi
  cat <<YAML
    scale:
      minReplicas: 1
      maxReplicas: 5
      rules:
        - name: http-concurrency
          http:
            metadata:
              concurrentRequests: "$concurrency"
YAML
}

deploy_app() {
  local name=$1 file="$work/$1.yaml"
  shift
  app_yaml "$name" "$@" >"$file"
  if [ "$DRY_RUN" = 1 ]; then
    echo "# $name.yaml:" >&2
    redact "$(cat "$file")" | sed 's/^/#   /' >&2
    echo >&2
  fi
  run az containerapp create --resource-group "$RG" --name "$name" --yaml "$file" --output none
}

echo "== apps" >&2
# Inside the environment, an app with internal ingress answers at http://<app name> (port 80).
deploy_app "$NAME-db-api" db-api 8081 false 0.5 1Gi 10 10 \
  "service-token=parley-service-token postgres-password=postgres-password" \
  "DB_API_HOST=0.0.0.0 POSTGRES_HOST=$PG.postgres.database.azure.com POSTGRES_PORT=5432 POSTGRES_USERNAME=parley POSTGRES_DATABASE=parley PGSSLMODE=require POSTGRES_PASSWORD=secretref:postgres-password PARLEY_SERVICE_TOKEN=secretref:service-token"
deploy_app "$NAME-lm-api" lm-api 8082 false 4.0 8Gi "$LM_CONCURRENCY" 120 \
  "service-token=parley-service-token" \
  "LM_API_HOST=0.0.0.0 PARLEY_MODEL=/models/$MODEL_NAME PARLEY_SERVICE_TOKEN=secretref:service-token"
deploy_app "$NAME-ui" ui 8080 true 0.5 1Gi 10 120 \
  "service-token=parley-service-token session-key=session-key" \
  "UI_HOST=0.0.0.0 DB_API_URL=http://$NAME-db-api LM_API_URL=http://$NAME-lm-api PARLEY_SERVICE_TOKEN=secretref:service-token SESSION_KEY=secretref:session-key"

fqdn=$(value ui-fqdn az containerapp show --resource-group "$RG" --name "$NAME-ui" \
  --query properties.configuration.ingress.fqdn --output tsv)

if [ -n "${PARLEY_DOMAIN:-}" ]; then
  echo "== custom domain $PARLEY_DOMAIN (create a CNAME $PARLEY_DOMAIN -> $fqdn and the asuid TXT record first)" >&2
  run az containerapp hostname add --resource-group "$RG" --name "$NAME-ui" --hostname "$PARLEY_DOMAIN" --output none
  run az containerapp hostname bind --resource-group "$RG" --name "$NAME-ui" --hostname "$PARLEY_DOMAIN" \
    --environment "$ENV_NAME" --validation-method CNAME --output none
fi

echo "deployed: https://${PARLEY_DOMAIN:-$fqdn}" >&2
