// Validates rendered Kubernetes manifests (the output of `kubectl kustomize`): every document
// against its schema (npm kubernetes-models, @kubernetes-models/keda), then Parley's own rules.
// Usage: node validate-k8s.cjs dev|prod RENDERED.yaml   (exit 1 with a list of failures)
'use strict';
const fs = require('fs');
const YAML = require('yaml');

const [overlay, file] = process.argv.slice(2);
const docs = YAML.parseAllDocuments(fs.readFileSync(file, 'utf8')).map((d) => d.toJS()).filter(Boolean);
const failures = [];
const fail = (msg) => failures.push(msg);
const check = (cond, msg) => { if (!cond) fail(msg); };

function modelClass(apiVersion, kind) {
  const path = apiVersion.startsWith('keda.sh/')
    ? `@kubernetes-models/keda/${apiVersion}`
    : `kubernetes-models/${apiVersion}`;
  const mod = require(path);
  if (!mod[kind]) throw new Error(`no schema for ${apiVersion} ${kind}`);
  return mod[kind];
}

for (const doc of docs) {
  // kustomize wraps long base64 values over several lines; the API server's decoder skips the
  // newlines, the schema's "byte" format does not: compare what the server decodes.
  if (doc.kind === 'Secret' && doc.data)
    for (const k of Object.keys(doc.data)) doc.data[k] = String(doc.data[k]).replace(/\s+/g, '');
  const id = `${doc.kind}/${doc.metadata && doc.metadata.name}`;
  try {
    new (modelClass(doc.apiVersion, doc.kind))(doc).validate();
  } catch (e) {
    fail(`${id}: schema: ${e.message.split('\n').slice(0, 5).join(' ')}`);
  }
}

const of = (kind) => docs.filter((d) => d.kind === kind);
const named = (kind, name) => docs.find((d) => d.kind === kind && d.metadata.name === name);
const component = (labels) => labels && labels['app.kubernetes.io/component'];
const drain = { ui: 120, 'db-api': 10, 'lm-api': 120 };
const ports = { ui: 8080, 'db-api': 8081, 'lm-api': 8082 };

// Deployments: probes, resources, drain, non-root, secrets that exist.
const secrets = new Set(of('Secret').map((s) => s.metadata.name));
const configMaps = new Set(of('ConfigMap').map((s) => s.metadata.name));
for (const role of ['ui', 'db-api', 'lm-api']) {
  const d = named('Deployment', role);
  if (!d) { fail(`no Deployment ${role}`); continue; }
  const pod = d.spec.template.spec;
  const c = pod.containers[0];
  check(c.args[0] === role, `${role}: runs "parley ${c.args[0]}"`);
  check(c.readinessProbe && c.readinessProbe.httpGet.path === '/readyz', `${role}: readiness probe on /readyz`);
  check(c.livenessProbe && c.livenessProbe.httpGet.path === '/healthz', `${role}: liveness probe on /healthz`);
  check(c.ports[0].containerPort === ports[role], `${role}: port ${ports[role]}`);
  for (const k of ['requests', 'limits'])
    check(c.resources && c.resources[k] && c.resources[k].cpu && c.resources[k].memory, `${role}: resources.${k} cpu and memory`);
  const env = Object.fromEntries((c.env || []).map((e) => [e.name, e.value]));
  check(env.PARLEY_DRAIN_TIMEOUT === `${drain[role]}s`, `${role}: PARLEY_DRAIN_TIMEOUT ${drain[role]}s (got ${env.PARLEY_DRAIN_TIMEOUT})`);
  const pre = c.lifecycle && c.lifecycle.preStop && c.lifecycle.preStop.exec;
  const pause = pre && pre.command[0] === 'sleep' ? Number(pre.command[1]) : NaN;
  check(pause > 0, `${role}: preStop pause`);
  check(pod.terminationGracePeriodSeconds >= drain[role] + pause, `${role}: terminationGracePeriodSeconds ${pod.terminationGracePeriodSeconds} covers preStop ${pause}s + drain ${drain[role]}s`);
  check(pod.securityContext.runAsNonRoot === true && c.securityContext.allowPrivilegeEscalation === false
        && c.securityContext.readOnlyRootFilesystem === true, `${role}: non-root, no privilege escalation, read-only root`);
  for (const ref of c.envFrom || []) {
    if (ref.secretRef) check(secrets.has(ref.secretRef.name), `${role}: Secret ${ref.secretRef.name} is generated`);
    if (ref.configMapRef) check(configMaps.has(ref.configMapRef.name), `${role}: ConfigMap ${ref.configMapRef.name} is generated`);
  }
  check(of('PodDisruptionBudget').some((p) => component(p.spec.selector.matchLabels) === role), `${role}: PodDisruptionBudget`);
  const svc = named('Service', role);
  check(svc && (svc.spec.type || 'ClusterIP') === 'ClusterIP', `${role}: ClusterIP Service`);
}
for (const s of of('Service'))
  check(!s.spec.type || s.spec.type === 'ClusterIP', `Service ${s.metadata.name} is ${s.spec.type}: only ClusterIP`);
const headless = named('Service', 'lm-api-replicas');
check(headless && headless.spec.clusterIP === 'None' && component(headless.spec.selector) === 'lm-api', 'headless Service lm-api-replicas');

// The UI is the only thing exposed.
const ingresses = of('Ingress');
check(ingresses.length === 1, `exactly one Ingress (got ${ingresses.length})`);
for (const ing of ingresses) {
  for (const rule of ing.spec.rules)
    for (const p of rule.http.paths) check(p.backend.service.name === 'ui', `Ingress routes to ${p.backend.service.name}: only ui`);
  check(ing.spec.tls && ing.spec.tls.length > 0, 'Ingress has TLS');
  check(ing.metadata.annotations['nginx.ingress.kubernetes.io/proxy-buffering'] === 'off', 'Ingress: no proxy buffering (SSE)');
  const tlsSecret = ing.spec.tls[0].secretName;
  if (overlay === 'dev') check(secrets.has(tlsSecret), `Ingress TLS secret ${tlsSecret} is generated`);
  if (overlay === 'prod') check(ing.metadata.annotations['cert-manager.io/cluster-issuer'], 'prod Ingress: cert-manager issuer');
}

// Network policies: default deny, and who may reach whom.
const policies = of('NetworkPolicy');
check(policies.some((p) => Object.keys(p.spec.podSelector).length === 0 && p.spec.policyTypes.includes('Ingress') && !p.spec.ingress),
      'a default-deny ingress NetworkPolicy');
function allowedPeers(target) {
  const peers = [];
  for (const p of policies) {
    const sel = p.spec.podSelector.matchLabels || {};
    const hits = target === 'postgres' ? sel['app.kubernetes.io/name'] === 'postgres' : component(sel) === target;
    if (hits) for (const rule of p.spec.ingress || []) peers.push(...(rule.from || [{ everyone: true }]));
  }
  return peers;
}
const isPrometheus = (peer) => peer.namespaceSelector && peer.namespaceSelector.matchLabels['kubernetes.io/metadata.name'] === 'monitoring'
  && peer.podSelector && peer.podSelector.matchLabels['app.kubernetes.io/name'] === 'prometheus';
for (const [target, from] of [['db-api', 'ui'], ['lm-api', 'ui']]) {
  const peers = allowedPeers(target);
  check(peers.length > 0, `${target}: a NetworkPolicy admits someone`);
  for (const peer of peers)
    check((peer.podSelector && !peer.namespaceSelector && component(peer.podSelector.matchLabels) === from) || isPrometheus(peer),
          `${target}: admits only ${from} (and the metrics scraper), not ${JSON.stringify(peer)}`);
}
if (overlay === 'dev') {
  const peers = allowedPeers('postgres');
  check(peers.length > 0, 'postgres: a NetworkPolicy admits db-api');
  for (const peer of peers)
    check(peer.podSelector && !peer.namespaceSelector && component(peer.podSelector.matchLabels) === 'db-api',
          `postgres: admits only db-api, not ${JSON.stringify(peer)}`);
  const pg = named('StatefulSet', 'postgres');
  check(pg && pg.spec.volumeClaimTemplates, 'dev: PostgreSQL StatefulSet with a volume');
  check(named('ConfigMap', [...configMaps][0]).data.POSTGRES_HOST === 'postgres', 'dev: db-api points at the in-cluster PostgreSQL');
} else {
  check(!of('StatefulSet').length, 'prod: no in-cluster PostgreSQL');
  const cm = of('ConfigMap').find((c) => c.metadata.name.startsWith('parley-database'));
  check(cm && /\.postgres\.database\.azure\.com$/.test(cm.data.POSTGRES_HOST) && cm.data.PGSSLMODE === 'require',
        'prod: db-api points at the managed server over TLS');
}

// Autoscaling: HPAs for ui and db-api (10 concurrent requests per replica), lm-api on its queue.
for (const role of ['ui', 'db-api']) {
  const h = named('HorizontalPodAutoscaler', role);
  if (!h) { fail(`no HPA for ${role}`); continue; }
  const m = h.spec.metrics.find((x) => x.type === 'Pods' && x.pods.metric.name === 'parley_http_requests_in_flight');
  check(m && m.pods.target.averageValue === '10', `${role} HPA: 10 requests in flight per replica`);
  check(h.spec.maxReplicas === 5 && h.spec.minReplicas === (overlay === 'prod' ? 2 : 1), `${role} HPA: min/max replicas`);
}
const so = named('ScaledObject', 'lm-api');
const lmHpa = named('HorizontalPodAutoscaler', 'lm-api');
if (overlay === 'prod') {
  check(so, 'prod: KEDA ScaledObject for lm-api');
  check(!lmHpa, 'prod: no plain HPA for lm-api besides KEDA');
  if (so) {
    check(so.spec.scaleTargetRef.name === 'lm-api' && so.spec.minReplicaCount === 1 && so.spec.maxReplicaCount === 5, 'ScaledObject: lm-api, min 1, max 5');
    check(so.spec.triggers.some((t) => t.type === 'prometheus' && /parley_lm_requests_waiting/.test(t.metadata.query)), 'ScaledObject: trigger on parley_lm_requests_waiting');
  }
} else {
  check(!so, 'dev: the lm-api-hpa component replaces the ScaledObject');
  check(lmHpa && lmHpa.spec.metrics.some((m) => m.type === 'Pods' && m.pods.metric.name === 'parley_lm_requests_waiting'), 'dev: plain HPA for lm-api on parley_lm_requests_waiting');
}

if (failures.length) {
  console.error(`${overlay}: ${failures.length} failure(s):\n  ` + failures.join('\n  '));
  process.exit(1);
}
console.log(`${overlay}: ${docs.length} documents valid (${[...new Set(docs.map((d) => d.kind))].join(', ')})`);
