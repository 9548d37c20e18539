// Checks the calls deploy.sh made to the fake az (fake-az/az): one line per call, tab-separated
// arguments, in LOG; the app definitions passed with --yaml were copied to LOG.N.yaml.
// Usage: node check-azure-calls.cjs LOG OUTPUT_FILE SECRET DOMAIN   (exit 1 with a list of failures)
'use strict';
const fs = require('fs');
const YAML = require('yaml');

const [log, outputFile, secret, domain] = process.argv.slice(2);
const calls = fs.readFileSync(log, 'utf8').split('\n').filter(Boolean).map((l) => l.split('\t'));
const output = fs.readFileSync(outputFile, 'utf8');
const failures = [];
const check = (cond, msg) => { if (!cond) failures.push(msg); };
const starts = (call, ...words) => words.every((w, i) => call[i] === w);
const arg = (call, flag) => { const i = call.indexOf(flag); return i >= 0 ? call[i + 1] : undefined; };
const find = (...words) => calls.filter((c) => starts(c, ...words));

check(!output.includes(secret), 'a secret value read from the vault appears in the output of deploy.sh');

// Secrets: generated into Key Vault from files, never as --value, then read from the vault.
const sets = find('keyvault', 'secret', 'set');
check(sets.length === 3, `3 secrets written to Key Vault (got ${sets.length})`);
for (const c of sets) {
  check(arg(c, '--file') && !c.includes('--value'), `secret ${arg(c, '--name')} written from a file, not --value`);
  const n = calls.indexOf(c) + 1;
  const len = Number(fs.readFileSync(`${log}.${n}.secret-length`, 'utf8'));
  check(len >= 48, `secret ${arg(c, '--name')} has a random value of at least 48 hex digits (got ${len} bytes)`);
}
check(find('keyvault', 'secret', 'show').some((c) => arg(c, '--name') === 'postgres-password' && arg(c, '--query') === 'value'),
      'the PostgreSQL password is read from Key Vault');
check(find('keyvault', 'create').some((c) => arg(c, '--enable-rbac-authorization') === 'true'), 'Key Vault with RBAC');
check(find('role', 'assignment', 'create').some((c) => arg(c, '--role') === 'Key Vault Secrets User'), 'the apps identity may read secrets');
check(find('role', 'assignment', 'create').some((c) => arg(c, '--role') === 'AcrPull'), 'the apps identity may pull images');

// Network and database: private PostgreSQL in its own delegated subnet.
const subnets = find('network', 'vnet', 'subnet', 'create');
check(subnets.some((c) => arg(c, '--delegations') === 'Microsoft.App/environments'), 'a subnet delegated to Container Apps');
check(subnets.some((c) => arg(c, '--delegations') === 'Microsoft.DBforPostgreSQL/flexibleServers'), 'a subnet delegated to PostgreSQL');
const pg = find('postgres', 'flexible-server', 'create')[0];
check(pg && arg(pg, '--public-access') === 'Disabled' && arg(pg, '--vnet') && arg(pg, '--subnet') === 'postgres', 'PostgreSQL private in the VNET');
check(pg && arg(pg, '--admin-password') === secret, 'PostgreSQL created with the password from the vault');
check(find('acr', 'build').length === 1, 'the image is built and pushed by the registry');
check(find('containerapp', 'env', 'create').some((c) => arg(c, '--infrastructure-subnet-resource-id')), 'environment in the VNET');

// The three apps.
const apps = {};
calls.forEach((c, i) => {
  if (starts(c, 'containerapp', 'create')) apps[arg(c, '--name')] = YAML.parse(fs.readFileSync(`${log}.${i + 1}.yaml`, 'utf8'));
});
const expect = { 'parley-ui': [true, 10, 8080], 'parley-db-api': [false, 10, 8081], 'parley-lm-api': [false, 2, 8082] };
for (const [name, [external, concurrency, port]] of Object.entries(expect)) {
  const app = apps[name];
  if (!app) { failures.push(`no containerapp create for ${name}`); continue; }
  const conf = app.properties.configuration;
  const tpl = app.properties.template;
  check(conf.ingress.external === external, `${name}: ${external ? 'external' : 'internal'} ingress`);
  check(conf.ingress.targetPort === port, `${name}: target port ${port}`);
  check(conf.ingress.allowInsecure === false, `${name}: no plain HTTP`);
  check(tpl.scale.minReplicas === 1 && tpl.scale.maxReplicas === 5, `${name}: min 1, max 5 replicas`);
  const rule = (tpl.scale.rules || []).find((r) => r.http);
  check(rule && rule.http.metadata.concurrentRequests === String(concurrency), `${name}: HTTP scale rule at ${concurrency} concurrent requests`);
  for (const s of conf.secrets) check(s.keyVaultUrl && s.identity && !('value' in s), `${name}: secret ${s.name} is a Key Vault reference`);
  const c = tpl.containers[0];
  const probes = Object.fromEntries(c.probes.map((p) => [p.type, p.httpGet.path]));
  check(probes.Readiness === '/readyz' && probes.Liveness === '/healthz', `${name}: probes on /readyz and /healthz`);
  for (const e of c.env) check(!('value' in e) || !/TOKEN|KEY|PASSWORD/.test(e.name), `${name}: ${e.name} comes from a secret`);
  check(c.env.some((e) => e.name === 'PARLEY_SERVICE_TOKEN' && e.secretRef), `${name}: service token from a secret`);
  const drain = parseInt((c.env.find((e) => e.name === 'PARLEY_DRAIN_TIMEOUT') || {}).value, 10);
  check(tpl.terminationGracePeriodSeconds > drain, `${name}: grace period longer than the drain timeout`);
}
if (apps['parley-lm-api'])
  check((apps['parley-lm-api'].properties.template.volumes || []).some((v) => v.storageType === 'AzureFile'), 'lm-api: model from the file share');
if (apps['parley-ui']) {
  const env = Object.fromEntries(apps['parley-ui'].properties.template.containers[0].env.map((e) => [e.name, e.value]));
  check(env.DB_API_URL === 'http://parley-db-api' && env.LM_API_URL === 'http://parley-lm-api', 'ui: reaches the internal apps by name');
}
check(find('containerapp', 'hostname', 'add').some((c) => arg(c, '--hostname') === domain), 'custom domain added');
check(find('containerapp', 'hostname', 'bind').some((c) => arg(c, '--hostname') === domain && arg(c, '--validation-method')),
      'custom domain bound with a managed certificate');

if (failures.length) {
  console.error(`deploy.sh against the fake az: ${failures.length} failure(s):\n  ` + failures.join('\n  '));
  process.exit(1);
}
console.log(`deploy.sh against the fake az: ${calls.length} calls, all checks passed`);
