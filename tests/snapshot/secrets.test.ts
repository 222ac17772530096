// A snapshot is safe to share: secrets planted in the REST stand-in world (an instance's kube-env
// with KUBELET_KEY and KUBE_PROXY_TOKEN, a startup-script, a pod env token, kubectl's
// last-applied-configuration, a PEM private key in a Service annotation, a kubeconfig token in an
// Ingress annotation, a controller event quoting a token, API errors echoing the Authorization
// header) must appear nowhere: not in the snapshot's files, not in the --json, Markdown or terminal
// reports, not on stdout or stderr of the CLIs. The snapshot folder is private (0700 / 0600) and a
// failed snapshot leaves nothing behind.
import { spawn } from "node:child_process";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { renderJson } from "../../verifier/report/json";
import { renderMarkdown } from "../../verifier/report/markdown";
import { renderTerminal } from "../../verifier/report/terminal";
import { redactText, redactValue } from "../../verifier/redact";
import { readSnapshotFolder, type SnapshotMeta } from "../../verifier/snapshot/folder";
import { SnapshotRecorder } from "../../verifier/snapshot/record";
import { verifyLiveIngress, verifySnapshot } from "../../verifier/snapshot/run";
import { loadLiveSources, type GkeSources, type VerifyOutcome } from "../../verifier/verify";
import { cliArgs, unwrapped } from "../support/cli";
import { startComputeStandin } from "../support/rest-standins/compute";
import { startKubeStandin } from "../support/rest-standins/kube";
import { buildWorld, ingressEvent, type GkeWorld } from "../support/rest-standins/world";

jest.setTimeout(90_000);

const ROOT = join(__dirname, "..", "..");
const pem = (label: string, body: string) => `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;
const KUBELET_KEY_PEM = pem("RSA PRIVATE KEY", "MIIEpAIBAAKCAQEAplantedKubeletKeyBody0123456789abcdef");

/** Every value planted; none may leave the process in any form below. */
const PLANTED = {
  accessToken: "ya29.planted-access-token-a7b8c9d0e1f2",
  kubeletKeyBase64: Buffer.from(KUBELET_KEY_PEM).toString("base64"),
  kubeletKeyBody: "plantedKubeletKeyBody0123456789abcdef",
  kubeProxyToken: "planted-kube-proxy-token-3f9a1c",
  startupPassword: "planted-startup-password-7d2e",
  podEnvToken: "planted-pod-env-token-91b4",
  lastApplied: "planted-last-applied-secret-5c6d",
  servicePemBody: "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCplantedServicePemBody",
  kubeconfigToken: "planted-kubeconfig-token-0e8f",
  clientKeyData: Buffer.from(pem("EC PRIVATE KEY", "MHcCAQEEIplantedClientKey")).toString("base64"),
  eventToken: "planted-event-token-4b4b",
  eventJwt: "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJwbGFudGVkIn0.plantedJwtSignature",
};

function leaks(text: string): string[] {
  // Terminal lines are wrapped and long words cut (report/layout.ts wrap): a value split over two
  // lines still leaks, so it is also looked for with all white space taken out of both.
  const squeezed = text.replace(/\s+/g, "");
  return Object.entries(PLANTED)
    .filter(([, value]) => text.includes(value) || squeezed.includes(value.replace(/\s+/g, "")))
    .map(([name]) => name);
}

/** The stand-in world with every secret planted where a real cluster keeps such things. */
function plantedWorld(): GkeWorld {
  const world = buildWorld();
  world.token = PLANTED.accessToken;
  const kubeEnv = [`CLUSTER_NAME: ${world.clusterName}`, `KUBELET_KEY: ${PLANTED.kubeletKeyBase64}`, `KUBE_PROXY_TOKEN: ${PLANTED.kubeProxyToken}`, "ENABLE_NODE_LOGGING: \"true\""].join("\n");
  for (const instance of world.compute.instances) {
    (instance as Record<string, unknown>).metadata = {
      kind: "compute#metadata",
      fingerprint: "aBcD1234",
      items: [
        { key: "kube-env", value: kubeEnv },
        { key: "startup-script", value: `#!/bin/bash\nexport DB_PASSWORD=${PLANTED.startupPassword}\n/opt/start.sh\n` },
      ],
    };
  }
  for (const pod of world.kube.pods) {
    pod.metadata!.annotations = { ...pod.metadata!.annotations, "kubectl.kubernetes.io/last-applied-configuration": JSON.stringify({ spec: { containers: [{ env: [{ name: "X", value: PLANTED.lastApplied }] }] } }) };
    for (const c of pod.spec?.containers ?? []) c.env = [{ name: "API_TOKEN", value: PLANTED.podEnvToken }, { name: "MODE", value: "study" }];
  }
  const service = world.kube.services.find((s) => s.metadata?.name === world.serviceName)!;
  service.metadata!.annotations = { ...service.metadata!.annotations, "example.com/tls-key": pem("PRIVATE KEY", PLANTED.servicePemBody) };
  const ingress = world.kube.ingresses[0]!;
  ingress.metadata!.annotations = {
    ...ingress.metadata!.annotations,
    "example.com/kubeconfig": `apiVersion: v1\nusers:\n- name: deployer\n  user:\n    token: ${PLANTED.kubeconfigToken}\n    client-key-data: ${PLANTED.clientKeyData}\n`,
  };
  world.kube.events = [
    ...(world.kube.events ?? []),
    ingressEvent(world.namespace, world.ingressName, "Warning", "Sync", `Error syncing to GCP: webhook said token=${PLANTED.eventToken} and sent ${PLANTED.eventJwt}`, "2026-12-01T10:00:00Z"),
  ];
  return world;
}

const tmp: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "gip-secrets-"));
  tmp.push(dir);
  return dir;
}
afterAll(() => tmp.forEach((d) => rmSync(d, { recursive: true, force: true })));

const walkFiles = (dir: string): string[] => readdirSync(dir, { recursive: true, encoding: "utf8" }).map((f) => join(dir, f));

function reports(outcome: VerifyOutcome): Record<string, string> {
  return {
    json: renderJson(outcome.model, outcome.results, { includeDumps: true, diagnosis: outcome.diagnosis, outcome: { exitCode: outcome.exitCode, reason: outcome.reason } }),
    markdown: renderMarkdown(outcome.model, outcome.results, { diagnosis: outcome.diagnosis }),
    terminal: renderTerminal(outcome.model, outcome.results, { width: 60, full: true, diagnosis: outcome.diagnosis }),
  };
}

describe("the redaction module", () => {
  test("each kind of credential becomes a marker saying what was removed; plain text is unchanged", () => {
    const text = [
      `Authorization: Bearer ${PLANTED.accessToken}`,
      `curl -H "Authorization: Bearer $(gcloud auth print-access-token)"`,
      `token: ${PLANTED.kubeconfigToken}`,
      `KUBE_PROXY_TOKEN: ${PLANTED.kubeProxyToken}`,
      `client-key-data: ${PLANTED.clientKeyData}`,
      pem("PRIVATE KEY", PLANTED.servicePemBody),
      `jwt ${PLANTED.eventJwt}`,
      "KUBE-SVC-ABCDEF nodePort 30080 -> 10.20.0.5:8080, nextPageToken: abc123",
    ].join("\n");
    const found = new Set<string>();
    const out = redactText(text, found);
    expect(leaks(out)).toEqual([]);
    expect(out).toContain("Authorization: [redacted: Authorization header]");
    expect(out).toContain('"Authorization: Bearer $(gcloud auth print-access-token)"');
    expect(out).toContain("token: [redacted: value of token]");
    expect(out).toContain("[redacted: PEM private key]");
    expect(out).toContain("KUBE-SVC-ABCDEF nodePort 30080 -> 10.20.0.5:8080, nextPageToken: abc123");
    expect([...found].sort()).toEqual(["Authorization header", "JWT", "PEM block", "base64 PEM block", "credential-named value"].sort());
    expect(redactText(out)).toBe(out);
  });

  test("structured values: credential-named keys and {name, value} pairs, with the path of each removal", () => {
    const removed: { field: string; what: string }[] = [];
    const value = redactValue({ env: [{ name: "API_TOKEN", value: PLANTED.podEnvToken }, { name: "MODE", value: "study" }], auth: { password: "hunter2" } }, removed);
    expect(value).toEqual({ env: [{ name: "API_TOKEN", value: "[redacted: value of API_TOKEN]" }, { name: "MODE", value: "study" }], auth: { password: "[redacted: value of password]" } });
    expect(removed).toEqual([
      { field: "env[0].value", what: "value of API_TOKEN" },
      { field: "auth.password", what: "value of password" },
    ]);
  });
});

describe("a snapshot of a world full of secrets", () => {
  async function record(world: GkeWorld) {
    const compute = await startComputeStandin(world.compute, { token: world.token, faults: [{ match: /\/global\/firewalls/, status: 500, times: Infinity, echoAuthorization: true }] });
    const kube = await startKubeStandin(world.kube, { token: world.token, echoAuthorization: ["daemonsets"] });
    const out = join(tempDir(), "snap");
    try {
      const live = await loadLiveSources();
      const rootUrl = `${compute.url}/`;
      const sources: GkeSources = { ...live, collectLoadBalancer: (p, a, o) => live.collectLoadBalancer(p, a, { ...o, rootUrl }), fetchHostKeys: (p, i, o) => live.fetchHostKeys(p, i, { ...o, rootUrl }) };
      const cluster = { access: { server: kube.url, token: world.token }, project: world.project, location: world.zone, cluster: world.clusterName };
      const opts = { requests: 0, timeoutMs: 5000, ingress: { namespace: world.namespace, name: world.ingressName }, accessToken: world.token, noSsh: "--no-ssh was given" };
      const lines: string[] = [];
      const progress = { hop: (name: string, state: string, detail?: string) => lines.push(`${state} ${name}: ${detail ?? ""}`) };
      const recorder = new SnapshotRecorder(out);
      const outcome = await verifyLiveIngress(cluster, opts, progress, recorder, sources);
      return { out, outcome, lines };
    } finally {
      await compute.close();
      await kube.close();
    }
  }

  test("no planted value in any file; withheld names what and why; the folder is 0700 and its files 0600", async () => {
    const world = plantedWorld();
    const { out, outcome, lines } = await record(world);
    // the live run did see the secrets (so the checks below can fail)
    expect(leaks(JSON.stringify(outcome.model.problems) + lines.join("\n"))).toContain("accessToken");
    for (const file of walkFiles(out)) {
      const st = statSync(file);
      expect({ file, mode: (st.mode & 0o777).toString(8) }).toEqual({ file, mode: st.isDirectory() ? "700" : "600" });
      if (st.isFile()) expect({ file, leaks: leaks(readFileSync(file, "utf8")) }).toEqual({ file, leaks: [] });
    }
    expect((statSync(out).mode & 0o777).toString(8)).toBe("700");
    const meta = JSON.parse(readFileSync(join(out, "snapshot.json"), "utf8")) as SnapshotMeta;
    const withheld = (object: RegExp, field: string) => meta.withheld.find((w) => object.test(w.object) && w.fields.includes(field));
    expect(withheld(/^compute#instance /, "metadata")).toMatchObject({ reason: "not read by the verifier" });
    expect(withheld(/^Pod /, "spec.containers[0].env")).toBeDefined();
    expect(withheld(/^Pod /, "metadata.annotations[kubectl.kubernetes.io/last-applied-configuration]")).toBeDefined();
    expect(withheld(/^Service /, "metadata.annotations[example.com/tls-key]")).toBeDefined();
    expect(withheld(/^Ingress /, "metadata.annotations[example.com/kubeconfig]")).toBeDefined();
    // the event quoting a token is kept (the controller's errors are evidence), its token replaced
    expect(meta.withheld.find((w) => /^Event default\/hello\./.test(w.object) && w.fields[0] === "message" && w.reason.startsWith("looks like a credential"))).toBeDefined();
    // the echoed Authorization header: the failure is listed, the token is not
    expect(meta.failed.map((f) => f.message).join("\n")).toContain("[redacted: Authorization header]");
    // the folder still judges like the live run
    const offline = await verifySnapshot(out, { requests: 0, timeoutMs: 5000, ingress: { namespace: world.namespace, name: world.ingressName } });
    expect(Object.fromEntries(offline.results.map((r) => [r.id, r.verdict]))).toEqual(Object.fromEntries(outcome.results.map((r) => [r.id, r.verdict])));
    expect(readSnapshotFolder(out).warnings).toEqual([]);
  });

  test("the --json, Markdown and terminal reports of the live run and of the snapshot hold no planted value", async () => {
    const world = plantedWorld();
    const { out, outcome } = await record(world);
    const offline = await verifySnapshot(out, { requests: 0, timeoutMs: 5000, ingress: { namespace: world.namespace, name: world.ingressName } });
    for (const [label, run] of [["live", outcome], ["snapshot", offline]] as const) {
      for (const [kind, text] of Object.entries(reports(run))) expect({ label, kind, leaks: leaks(text) }).toEqual({ label, kind, leaks: [] });
    }
    // the redaction says what it removed where a value was quoted
    expect(reports(outcome).json).toContain("[redacted: ");
  });
});

// ---------------------------------------------------------------- the CLIs as a user runs them

function run(script: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const home = tempDir();
    const child = spawn(process.execPath, [...cliArgs(script), ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, HOME: home, NO_COLOR: "1", GOOGLE_OAUTH_ACCESS_TOKEN: PLANTED.accessToken, METADATA_SERVER_DETECTION: "none", TS_NODE_PROJECT: join(ROOT, "tsconfig.json"), TS_NODE_TRANSPILE_ONLY: "1", ...env },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** A hand-made folder holding the planted world's objects as they are (nothing filtered): what a user might zip up by hand. */
function rawFolder(world: GkeWorld): string {
  const dir = tempDir();
  const kube = (kind: string, apiVersion: string, items: object[]) => items.map((o) => ({ apiVersion, kind, ...o }));
  writeFileSync(
    join(dir, "kubectl.json"),
    JSON.stringify({
      apiVersion: "v1",
      kind: "List",
      items: [
        ...kube("Ingress", "networking.k8s.io/v1", world.kube.ingresses),
        ...kube("Service", "v1", world.kube.services),
        ...kube("Pod", "v1", world.kube.pods),
        ...kube("Node", "v1", world.kube.nodes),
        ...kube("EndpointSlice", "discovery.k8s.io/v1", world.kube.endpointSlices),
        ...(world.kube.events ?? []),
      ],
    }),
  );
  const c = world.compute;
  writeFileSync(join(dir, "compute.json"), JSON.stringify([...c.forwardingRules, ...c.targetHttpProxies, ...c.urlMaps, ...c.backendServices, ...c.healthChecks, ...c.instanceGroups, ...c.instances, ...c.firewalls]));
  return dir;
}

function kubeconfig(server: string): string {
  return `apiVersion: v1\nkind: Config\nclusters:\n- name: standin\n  cluster:\n    server: ${server}\ncontexts:\n- name: standin\n  context: {cluster: standin, user: me}\ncurrent-context: standin\nusers:\n- name: me\n  user: {}\n`;
}

test("verify --snapshot of a hand-made folder full of secrets: --json, terminal and --markdown hold none, nor does stderr", async () => {
  const world = plantedWorld();
  const dir = rawFolder(world);
  const md = join(tempDir(), "report.md");
  const ref = `${world.namespace}/${world.ingressName}`;
  const json = await run("verifier/cli/verify.ts", ["--snapshot", dir, "--ingress", ref, "--json"]);
  const terminal = await run("verifier/cli/verify.ts", ["--snapshot", dir, "--ingress", ref, "--full", "--markdown", md]);
  // the folder was judged (so a leak had its chance)
  expect(JSON.parse(json.stdout).checks.find((c: { id: string }) => c.id === "C10").verdict).toBe("pass");
  expect(terminal.stdout).toMatch(/Path from the load balancer to the pods/);
  for (const [what, text] of [["json stdout", json.stdout], ["json stderr", json.stderr], ["terminal stdout", terminal.stdout], ["terminal stderr", terminal.stderr], ["markdown", readFileSync(md, "utf8")]]) {
    expect({ what, leaks: leaks(text!) }).toEqual({ what, leaks: [] });
  }
  expect((statSync(md).mode & 0o777).toString(8)).toBe("600");
});

test("an API error echoing the Authorization header: verify --ingress and npm run snapshot print it redacted; the failed snapshot leaves no folder", async () => {
  const world = plantedWorld();
  const kube = await startKubeStandin(world.kube, { token: world.token, echoAuthorization: ["ingresses"] });
  try {
    const config = join(tempDir(), "kubeconfig");
    writeFileSync(config, kubeconfig(kube.url));
    const verify = await run("verifier/cli/verify.ts", ["--ingress", `${world.namespace}/${world.ingressName}`, "--json"], { KUBECONFIG: config });
    expect(verify.code).toBe(2);
    expect(verify.stderr).toContain("Authorization: [redacted: Authorization header]");
    const parent = tempDir();
    const out = join(parent, "snap");
    const snapshot = await run("verifier/cli/snapshot.ts", ["--out", out, "--ingress", `${world.namespace}/${world.ingressName}`], { KUBECONFIG: config });
    expect(snapshot.code).toBe(2);
    expect(unwrapped(snapshot.stderr)).toMatch(/snapshot not saved: .*\[redacted: Authorization header\]/);
    for (const [what, text] of [["verify stdout", verify.stdout], ["verify stderr", verify.stderr], ["snapshot stderr", snapshot.stderr]]) {
      expect({ what, leaks: leaks(text!) }).toEqual({ what, leaks: [] });
    }
    expect(readdirSync(parent)).toEqual([]);
  } finally {
    await kube.close();
  }
});

test("a snapshot that fails after it started writing (the Ingress read, the project unknown) leaves neither the folder nor a partial one", async () => {
  const world = plantedWorld();
  const kube = await startKubeStandin(world.kube, { token: world.token });
  try {
    const config = join(tempDir(), "kubeconfig");
    writeFileSync(config, kubeconfig(kube.url));
    const parent = tempDir();
    mkdirSync(join(parent, "snap"));
    const r = await run("verifier/cli/snapshot.ts", ["--out", join(parent, "snap"), "--ingress", `${world.namespace}/${world.ingressName}`], { KUBECONFIG: config });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("the Google Cloud project is unknown");
    expect(kube.requests.some((q) => q.path.includes("/ingresses/"))).toBe(true);
    // the empty folder the user made is left as it was; nothing was added beside it
    expect(readdirSync(parent)).toEqual(["snap"]);
    expect(readdirSync(join(parent, "snap"))).toEqual([]);
  } finally {
    await kube.close();
  }
});

test("a snapshot interrupted (SIGINT) while it waits on the API: exit 130, neither the folder nor a partial one is left", async () => {
  // an API server that accepts the request and never answers
  const server = createServer(() => undefined);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    const config = join(tempDir(), "kubeconfig");
    writeFileSync(config, kubeconfig(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
    const parent = tempDir();
    const child = spawn(process.execPath, [...cliArgs("verifier/cli/snapshot.ts"), "--out", join(parent, "snap"), "--ingress", "default/hello"], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, HOME: tempDir(), GOOGLE_OAUTH_ACCESS_TOKEN: PLANTED.accessToken, KUBECONFIG: config, TS_NODE_PROJECT: join(ROOT, "tsconfig.json"), TS_NODE_TRANSPILE_ONLY: "1" },
    });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const closed = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
    // interrupt once the partial folder exists (the recorder started)
    while (readdirSync(parent).length === 0 && child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
    expect(readdirSync(parent)[0]).toMatch(/^\.snap\.partial-/);
    child.kill("SIGINT");
    expect(await closed).toBe(130);
    expect(stderr).toContain("snapshot not saved: interrupted (SIGINT)");
    expect(readdirSync(parent)).toEqual([]);
  } finally {
    server.closeAllConnections();
    server.close();
  }
});
