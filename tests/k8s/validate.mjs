// Validates Kubernetes manifests: each document against the Kubernetes API
// schema of its kind (kubernetes-models: the Kubernetes OpenAPI spec compiled
// into ajv validators: types, required fields, enums, formats), then iocpu's
// own deployment rules across the documents. Like the API schema itself,
// the validators let unknown fields through; the rules below pin the fields
// iocpu depends on.
//   node validate.mjs FILE.yaml...      exit 0 valid, 1 invalid
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { parseAllDocuments } from "yaml";

const require = createRequire(import.meta.url);
const errors = [];
const docs = [];

function modelFor(apiVersion, kind) {
  const path = apiVersion.includes("/") ? apiVersion : `v1`;
  try {
    return require(`kubernetes-models/${path}/${kind}`)[kind];
  } catch {
    return null;
  }
}

for (const file of process.argv.slice(2)) {
  const text = readFileSync(file, "utf8");
  for (const d of parseAllDocuments(text)) {
    if (d.errors.length) {
      errors.push(`${file}: YAML: ${d.errors[0].message}`);
      continue;
    }
    const obj = d.toJS();
    if (obj === null) continue;
    const where = `${file}: ${obj.kind ?? "?"} ${obj.metadata?.name ?? "?"}`;
    const Model = obj.apiVersion && obj.kind ? modelFor(obj.apiVersion, obj.kind) : null;
    if (!Model) {
      errors.push(`${where}: unknown apiVersion/kind ${obj.apiVersion}/${obj.kind}`);
      continue;
    }
    try {
      new Model(obj).validate();
    } catch (e) {
      errors.push(`${where}: ${e.message}`);
      continue;
    }
    docs.push({ file, where, obj });
  }
}

// --- iocpu's rules -------------------------------------------------------------
// iocpu's objects are the ones named "iocpu" (redis.yaml adds a Service and a
// StatefulSet of its own, named iocpu-redis).
const of = (kind) => docs.filter((d) => d.obj.kind === kind).map((d) => d.obj);
const named = (kind, name) => of(kind).find((o) => o.metadata?.name === name);
const dep = named("Deployment", "iocpu");
const svc = named("Service", "iocpu");
const hpa = named("HorizontalPodAutoscaler", "iocpu");
const rule = (ok, msg) => ok || errors.push(`rule: ${msg}`);
// a non-empty selector whose every label the pod labels have
const selects = (sel, labels) =>
  Object.keys(sel ?? {}).length > 0 && Object.entries(sel).every(([k, v]) => labels?.[k] === v);
rule(dep && svc && hpa, "a Deployment, a Service and a HorizontalPodAutoscaler named iocpu");
if (dep && svc && hpa) {
  const pod = dep.spec.template;
  const c = pod.spec.containers.find((x) => x.name === "iocpu") ?? pod.spec.containers[0];
  const ports = (c.ports ?? []).map((p) => p.name);
  const setting = (flag, env) => {
    const i = (c.args ?? []).indexOf(flag);
    if (i >= 0) return String(c.args[i + 1]);
    const e = (c.env ?? []).find((x) => x.name === env);
    return e?.value;
  };
  const arg = (flag, env, def) => {
    const v = setting(flag, env);
    return v === undefined ? def : Number(v);
  };
  rule(c.readinessProbe?.httpGet?.path === "/readyz", "readiness probe is GET /readyz");
  rule(c.livenessProbe?.httpGet?.path === "/healthz", "liveness probe is GET /healthz");
  for (const p of [c.readinessProbe, c.livenessProbe])
    rule(p && ports.includes(p.httpGet.port), `probe port ${p?.httpGet?.port} is a container port`);
  // probes go to the admin listener (its own connections: through a flood),
  // which must listen where the kubelet looks (the pod IP)
  const adminPort = arg("--admin-port", "IOCPU_ADMIN_PORT", 0);
  const admin = (c.ports ?? []).find((p) => p.name === "admin");
  rule(adminPort > 0, "the admin listener is on (--admin-port / IOCPU_ADMIN_PORT)");
  rule(admin && admin.containerPort === adminPort,
    `container port "admin" is the admin listener's port ${adminPort}`);
  for (const p of [c.readinessProbe, c.livenessProbe])
    rule(p?.httpGet?.port === "admin" || p?.httpGet?.port === adminPort,
      `probe port ${p?.httpGet?.port} is the admin listener's`);
  const adminHost = setting("--admin-host", "IOCPU_ADMIN_HOST") ?? "127.0.0.1";
  rule(adminHost === "0.0.0.0" || adminHost === "::",
    `the admin listener binds ${adminHost}: the kubelet probes the pod IP, it needs 0.0.0.0`);
  for (const p of svc.spec.ports)
    rule(p.targetPort !== "admin" && p.targetPort !== adminPort,
      "the Service does not expose the admin listener");
  for (const k of ["requests", "limits"])
    for (const r of ["cpu", "memory"])
      rule(c.resources?.[k]?.[r] !== undefined, `resources.${k}.${r} is set`);
  const grace = arg("--grace", "IOCPU_GRACE", 10);
  const cmd = c.lifecycle?.preStop?.exec?.command ?? [];
  const pre = cmd[0] === "sleep" ? Number(cmd[1]) : NaN;
  rule(pre > 0, "a preStop sleep lets the endpoints drain before SIGTERM");
  const tgp = pod.spec.terminationGracePeriodSeconds ?? 30;
  rule(tgp > grace + pre, `terminationGracePeriodSeconds ${tgp} > preStop ${pre} + --grace ${grace}`);
  const labels = pod.metadata.labels ?? {};
  const sel = dep.spec.selector.matchLabels ?? {};
  rule(Object.entries(sel).every(([k, v]) => labels[k] === v), "Deployment selector matches its pods");
  rule(selects(svc.spec.selector, labels), "Service selector matches the pods");
  for (const p of svc.spec.ports)
    rule(ports.includes(p.targetPort) || (c.ports ?? []).some((x) => x.containerPort === p.targetPort),
      `Service targetPort ${p.targetPort} is a container port`);
  const t = hpa.spec.scaleTargetRef;
  rule(t.kind === "Deployment" && t.name === dep.metadata.name && t.apiVersion === "apps/v1",
    "the HPA scales the Deployment");
  rule((hpa.spec.metrics ?? []).some((m) => m.type === "Resource" && m.resource?.name === "cpu"),
    "the HPA scales on CPU");
  rule((hpa.spec.minReplicas ?? 1) <= hpa.spec.maxReplicas, "minReplicas <= maxReplicas");

  // Redis backend: redis://HOST[:PORT][/DB] must be one standalone Redis of
  // these manifests, on a persistent volume.
  const backend = setting("--tasks-backend", "IOCPU_TASKS_BACKEND") ?? "memory";
  const m = /^redis:\/\/([^:/]+)(?::(\d+))?(?:\/\d+)?$/.exec(backend);
  rule(backend === "memory" || m, `tasks backend "${backend}" is memory or redis://HOST[:PORT][/DB]`);
  if (m) {
    const host = m[1].split(".")[0]; // name, name.namespace, name.namespace.svc...
    const port = Number(m[2] ?? 6379);
    const rsvc = named("Service", host);
    rule(rsvc, `the Redis of ${backend} is a Service of these manifests (${host})`);
    if (rsvc) redisRules(rsvc, host, port);
  }

  function redisRules(rsvc, host, port) {
    const sp = rsvc.spec.ports?.find((p) => p.port === port);
    rule(sp, `Service ${host} has port ${port}`);
    const workloads = [...of("StatefulSet"), ...of("Deployment")].filter((w) =>
      selects(rsvc.spec.selector, w.spec.template.metadata?.labels),
    );
    const [w] = workloads;
    rule(workloads.length === 1, `Service ${host} selects the pods of one workload (${workloads.length})`);
    if (workloads.length !== 1) return;
    rule(w !== dep, `Service ${host} selects Redis, not iocpu's own pods`);
    if (w === dep) return;
    const wn = `${w.kind} ${w.metadata.name}`;
    const rpod = w.spec.template;
    const rc = rpod.spec.containers;
    rule((w.spec.replicas ?? 1) === 1, `${wn}: replicas 1 (one standalone Redis, not several queues)`);
    rule(!selects(svc.spec.selector, rpod.metadata?.labels), "the iocpu Service does not select the Redis pods");
    if (sp) {
      const target = sp.targetPort ?? sp.port;
      const open = rc.some((x) => (x.ports ?? []).some((p) => p.name === target || p.containerPort === target));
      rule(open, `Service ${host} targetPort ${target} is a container port of ${wn}`);
    }
    // persistence: a mount backed by a claim (volumeClaimTemplates, or a PVC volume)
    const claims = new Set([
      ...(w.spec.volumeClaimTemplates ?? []).map((t) => t.metadata?.name),
      ...(rpod.spec.volumes ?? []).filter((v) => v.persistentVolumeClaim).map((v) => v.name),
    ]);
    const kept = rc.some((x) => (x.volumeMounts ?? []).some((vm) => claims.has(vm.name)));
    rule(kept, `${wn} keeps its data on a PersistentVolumeClaim`);
    if (w.kind === "Deployment")
      rule(w.spec.strategy?.type === "Recreate", `${wn}: strategy Recreate (never two Redis on one volume)`);
  }
}

if (errors.length) {
  for (const e of errors) console.error(`k8s: ${e}`);
  console.error(`k8s: INVALID (${errors.length} problem(s))`);
  process.exit(1);
}
console.log(`k8s: valid: ${docs.map((d) => `${d.obj.kind}/${d.obj.metadata.name}`).join(", ")}`);
