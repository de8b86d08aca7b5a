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
const of = (kind) => docs.filter((d) => d.obj.kind === kind).map((d) => d.obj);
const [dep] = of("Deployment");
const [svc] = of("Service");
const [hpa] = of("HorizontalPodAutoscaler");
const rule = (ok, msg) => ok || errors.push(`rule: ${msg}`);
rule(dep && svc && hpa, "a Deployment, a Service and a HorizontalPodAutoscaler");
if (dep && svc && hpa) {
  const pod = dep.spec.template;
  const c = pod.spec.containers.find((x) => x.name === "iocpu") ?? pod.spec.containers[0];
  const ports = (c.ports ?? []).map((p) => p.name);
  const arg = (flag, env, def) => {
    const i = (c.args ?? []).indexOf(flag);
    if (i >= 0) return Number(c.args[i + 1]);
    const e = (c.env ?? []).find((x) => x.name === env);
    return e ? Number(e.value) : def;
  };
  rule(c.readinessProbe?.httpGet?.path === "/readyz", "readiness probe is GET /readyz");
  rule(c.livenessProbe?.httpGet?.path === "/healthz", "liveness probe is GET /healthz");
  for (const p of [c.readinessProbe, c.livenessProbe])
    rule(p && ports.includes(p.httpGet.port), `probe port ${p?.httpGet?.port} is a container port`);
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
  rule(
    Object.entries(svc.spec.selector ?? {}).every(([k, v]) => labels[k] === v),
    "Service selector matches the pods",
  );
  for (const p of svc.spec.ports)
    rule(ports.includes(p.targetPort) || (c.ports ?? []).some((x) => x.containerPort === p.targetPort),
      `Service targetPort ${p.targetPort} is a container port`);
  const t = hpa.spec.scaleTargetRef;
  rule(t.kind === "Deployment" && t.name === dep.metadata.name && t.apiVersion === "apps/v1",
    "the HPA scales the Deployment");
  rule((hpa.spec.metrics ?? []).some((m) => m.type === "Resource" && m.resource?.name === "cpu"),
    "the HPA scales on CPU");
  rule((hpa.spec.minReplicas ?? 1) <= hpa.spec.maxReplicas, "minReplicas <= maxReplicas");
}

if (errors.length) {
  for (const e of errors) console.error(`k8s: ${e}`);
  console.error(`k8s: INVALID (${errors.length} problem(s))`);
  process.exit(1);
}
console.log(`k8s: valid: ${docs.map((d) => `${d.obj.kind}/${d.obj.metadata.name}`).join(", ")}`);
