// The orchestration with in-memory sources: the order of the hops, what each source is given,
// counters around the requests, and the exit code with its reason.
import type { NatDump, PathModel, Problem } from "../../verifier/model";
import type { StackOutputs } from "../../verifier/sources/types";
import { gkeSteps, outcomeOf, verifyGke, verifyPath, type GkeSources } from "../../verifier/verify";
import { runChecks } from "../../verifier/checks";
import { gkeModel, LB_IP, NODES } from "./fixtures/gke-model";
import { validOutputs } from "./fixtures/outputs";

const outputs = validOutputs() as unknown as StackOutputs;
const TOKEN = "ya29.in-memory-token";

function sources(calls: string[], bend: (s: GkeSources) => void = () => undefined): GkeSources {
  const world = gkeModel({ counters: true });
  let counterReads = 0;
  const s: GkeSources = {
    googleAccessToken: async () => (calls.push("token"), TOKEN),
    kubeAccessFromKubeconfig: (kubeconfig, token) => {
      calls.push("kubeAccess");
      expect(kubeconfig).toBe(outputs.kubeconfig);
      expect(token).toBe(TOKEN);
      return { server: "https://34.133.20.10", token };
    },
    collectKubernetes: async (access, names) => {
      calls.push("kubernetes");
      expect(access.token).toBe(TOKEN);
      expect(names).toEqual({ namespace: "ingress-path", serviceName: "hello", ingressName: "hello", deploymentName: "hello" });
      return { value: structuredClone(world.kubernetes), problems: [] };
    },
    collectLoadBalancer: async (project, annotations, opts) => {
      calls.push("loadBalancer");
      expect(project).toBe("ingress-path-study");
      expect(annotations["ingress.kubernetes.io/forwarding-rule"]).toBe("k8s2-fr-1z8m3lqd-ingress-path-hello-q3n0a1b2");
      expect(opts.accessToken).toBe(TOKEN);
      return { value: structuredClone(world.loadBalancer), problems: [] };
    },
    fetchHostKeys: async (_project, instances) => {
      calls.push("hostKeys");
      return new Map(instances.map((i) => [i.name, [`ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI${i.name.slice(-4)}`]]));
    },
    collectNodes: async (targets, opts) => {
      calls.push("nodes");
      expect(opts.privateKey).toBe(outputs.sshPrivateKey);
      expect(opts.user).toBe("verifier");
      for (const t of targets) expect(t.hostKeys[0]).toContain(t.name.slice(-4));
      const nodes = world.nodes.filter((n) => targets.some((t) => t.name === n.name)).map((n) => ({ ...structuredClone(n), countersBefore: undefined, countersAfter: undefined }));
      return { nodes, problems: [] };
    },
    readNatCounters: async (targets) => {
      calls.push("counters");
      const which = counterReads++ === 0 ? "countersBefore" : "countersAfter";
      return new Map<string, NatDump | Problem>(targets.map((t) => [t.name, world.nodes.find((n) => n.name === t.name)![which]!]));
    },
    sendRequests: async (url, count, opts) => {
      calls.push("requests");
      expect({ url, count, keepAlive: opts.keepAlive }).toEqual({ url: `http://${LB_IP}/`, count: 20, keepAlive: false });
      return structuredClone(world.requests!);
    },
  };
  bend(s);
  return s;
}

const OPTS = { requests: 20, keepAlive: false, transport: "direct" as const, timeoutMs: 5000 };

test("the hops run in order; counters frame the requests; every claim passes: exit 0", async () => {
  const calls: string[] = [];
  const hops: string[] = [];
  const outcome = await verifyGke(outputs, OPTS, { hop: (name, state) => hops.push(`${name}:${state}`) }, sources(calls));
  expect(calls).toEqual(["token", "kubeAccess", "kubernetes", "loadBalancer", "hostKeys", "nodes", "counters", "requests", "counters"]);
  expect(outcome.results.map((r) => r.verdict)).toEqual(Array(12).fill("pass"));
  expect(outcome.exitCode).toBe(0);
  expect(outcome.reason).toBe("all 12 claims hold");
  expect(outcome.model.nodes[1].countersAfter?.command).toBe("sudo iptables-save -c -t nat");
  expect(hops).toContain("kubernetes API:ok");
  expect(hops).toContain("requests:ok");
  expect(hops.indexOf("counters before:ok")).toBeLessThan(hops.indexOf("requests:start"));
});

test("--requests 0: no requests and no counter reads around them", async () => {
  const calls: string[] = [];
  const outcome = await verifyGke(outputs, { ...OPTS, requests: 0 }, undefined, sources(calls));
  expect(calls).toEqual(["token", "kubeAccess", "kubernetes", "loadBalancer", "hostKeys", "nodes"]);
  expect(outcome.model.nodes.every((n) => n.countersBefore === undefined && n.countersAfter === undefined)).toBe(true);
  expect(outcome.results.find((r) => r.id === "C12")?.verdict).toBe("cannot-tell");
});

test("SSH targets: external IPs for direct, names and zones for IAP", async () => {
  const calls: string[] = [];
  let seen: { address: string; zone?: string }[] = [];
  const s = sources(calls, (x) => {
    const inner = x.collectNodes;
    x.collectNodes = async (targets, opts, p) => ((seen = targets), inner(targets, opts, p));
  });
  await verifyPath(gkeSteps(outputs, { ...OPTS, transport: "iap" }, s));
  expect(seen.map((t) => t.address)).toEqual(NODES.map((n) => n.name));
  expect(seen.every((t) => t.zone === "us-central1-a")).toBe(true);
  await verifyPath(gkeSteps(outputs, OPTS, s));
  expect(seen.map((t) => t.address)).toEqual(NODES.map((n) => n.externalIp));
});

test("the Kubernetes API failing: later hops say why they were skipped, secrets stay out, exit 2", async () => {
  const calls: string[] = [];
  const s = sources(calls, (x) => {
    x.collectKubernetes = async () => {
      throw new Error(`connect ECONNREFUSED while using ${outputs.kubeconfig}`);
    };
  });
  const outcome = await verifyGke(outputs, OPTS, undefined, s);
  expect(calls).toEqual(["token", "kubeAccess", "requests"]);
  expect(outcome.exitCode).toBe(2);
  expect(outcome.reason).toMatch(/^could not verify C1, C2/);
  expect(outcome.reason).toContain("connect ECONNREFUSED");
  const text = JSON.stringify(outcome.model.problems);
  expect(text).not.toContain("certificate-authority-data");
  expect(text).toContain("[kubeconfig redacted]");
  expect(text).toContain("the load balancer was not read: the Ingress was not read");
  // the requests still ran and were judged on their own
  expect(outcome.model.requests?.results).toHaveLength(20);
});

test("no Google credentials: nothing cloud-side is tried, the hint says how to log in", async () => {
  const calls: string[] = [];
  const s = sources(calls, (x) => {
    x.googleAccessToken = async () => {
      throw new Error("Could not load the default credentials");
    };
  });
  const outcome = await verifyGke(outputs, OPTS, undefined, s);
  expect(calls).toEqual(["requests"]);
  expect(outcome.exitCode).toBe(2);
  expect(outcome.model.problems[0].hint).toContain("gcloud auth application-default login");
  // the claims that need the cluster say why it was not read
  expect(outcome.results.find((r) => r.id === "C8")?.summary).toContain("the Kubernetes API was not read: no Google access token");
});

test("a claim that fails gives exit 1 even when others cannot tell", () => {
  const m: PathModel = gkeModel();
  m.loadBalancer!.backendServices[0].health[0].state = "UNHEALTHY";
  m.nodes[2].listeners = undefined;
  const { exitCode, reason } = outcomeOf(m, runChecks(m));
  expect(exitCode).toBe(1);
  expect(reason).toBe("C11 failed");
});
