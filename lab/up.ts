// `lab up`: builds the article's path in network namespaces. Idempotent: a lab that is complete and
// healthy is left as it is; anything else with this prefix (a crashed or half-built lab) is torn
// down first and built again, so the result never depends on what was there before.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { writeFilterRules, writeNatRules, type NatRulesSpec } from "../verifier/iptables/kube-proxy-rules";
import { labDown } from "./down";
import { hostCollisions, processRunning } from "./host";
import { lbStatus, setLbKeepAlive, waitForHealthy } from "./lb-control";
import {
  addAddress,
  addRoute,
  createNamespace,
  createVeth,
  execInNamespace,
  listNamespaces,
  preflight,
  run,
  setLinkUp,
  spawnInNamespace,
} from "./netns";
import { generateClientKeyPair, startSshd, waitForListener } from "./sshd";
import { ensureStateDir, labPaths, readState, writeClientKey, writeState, type LabState, type PodVariant } from "./state";
import { buildNegNetwork, negLbBackends, type LabBackendMode } from "./neg";
import { DEFAULT_LAB_NODES, labCidrs, labNamespaces, type LabNode, type LabPod, type LabTopology } from "./topology";

export interface UpOptions {
  /** the path to build: "instance-group" (default, the article's) or "neg" (container-native, lab/neg.ts) */
  backend?: LabBackendMode;
  /** LB reuses connections to nodes (default false: one fresh connection per proxied request) */
  keepAlive?: boolean;
  /** progress lines ("namespaces: 7 created"); default silent */
  log?: (line: string) => void;
}

export interface UpResult {
  /** false when a complete, healthy lab was already there */
  built: boolean;
  /** per step, milliseconds */
  timings: { step: string; ms: number }[];
  state: LabState;
}

/** The compiled .mjs next to this file when running from dist/, else the .mts source (Node strips its types). */
const script = (name: string) => (existsSync(join(__dirname, `${name}.mjs`)) ? join(__dirname, `${name}.mjs`) : join(__dirname, `${name}.mts`));
const POD_SERVER = script("pod-server");
const LB_PROXY = script("lb-proxy");
/** No project imports in these scripts, so either form runs on its own. */
const nodeScript = (script: string, ...args: string[]) => [process.execPath, "--no-warnings", script, ...args];

/** Root, netns support, tools, and addresses that stay off the host's: every problem at once. */
export async function labPreflight(t: LabTopology): Promise<string[]> {
  const report = await preflight({
    // curl: the verifier's probes from the nodes (n-ip:n-port, p-ip:p-port) run it, as on GKE nodes.
    commands: ["ip", "ss", "iptables-save", "iptables-restore", "sshd", "ssh-keygen", "curl"],
    probeNamespace: `${t.prefix}probe`,
  });
  const problems = [...report.problems];
  if (problems.length === 0) {
    const collisions = await hostCollisions(labCidrs(t), [t.management.bridge]);
    for (const c of collisions) {
      problems.push(`address collision: ${c}; pick another lab block with LAB_NET=10.<n> (e.g. LAB_NET=10.231)`);
    }
  }
  return problems;
}

export async function labUp(t: LabTopology, opts: UpOptions = {}): Promise<UpResult> {
  const log = opts.log ?? (() => undefined);
  const timings: { step: string; ms: number }[] = [];
  const step = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    const value = await work();
    const ms = Math.round(performance.now() - started);
    timings.push({ step: name, ms });
    log(`  ${name} (${ms} ms)`);
    return value;
  };

  const problems = await step("preflight", () => labPreflight(t));
  if (problems.length > 0) throw new LabError(`lab up cannot start:\n${problems.map((p) => `  - ${p}`).join("\n")}`);

  const existing = readState(t);
  const backend = opts.backend ?? "instance-group";
  // A lab of the other path or another node count is rebuilt: the LB's backends and the network differ.
  if (
    existing?.complete &&
    (existing.backend ?? "instance-group") === backend &&
    (existing.nodes ?? DEFAULT_LAB_NODES) === t.nodes.length &&
    (await isHealthy(t, existing))
  ) {
    const keepAlive = opts.keepAlive ?? existing.keepAlive;
    if (keepAlive !== existing.keepAlive) {
      // The one setting a running lab can change in place.
      await setLbKeepAlive(labPaths(t).lbControlSocket, keepAlive);
      existing.keepAlive = keepAlive;
      writeState(t, existing);
      log(`  lab "${t.prefix}" is already up; LB keep-alive is now ${keepAlive ? "on" : "off"}`);
    } else log(`  lab "${t.prefix}" is already up and healthy: nothing to do`);
    return { built: false, timings, state: existing };
  }
  if (existing || (await listNamespaces(t.prefix)).length > 0) {
    await step("clean the previous (incomplete) lab", async () => {
      const report = await labDown(t);
      if (report.leftovers.length > 0) throw new LabError(`could not clean the previous lab: ${report.leftovers.join("; ")}`);
    });
  }

  const paths = ensureStateDir(t);
  const keepAlive = opts.keepAlive ?? false;
  const state: LabState = {
    prefix: t.prefix,
    net: t.net,
    createdAt: new Date().toISOString(),
    complete: false,
    pids: {},
    hostKeys: {},
    keepAlive,
    ...(backend === "neg" ? { backend } : {}),
    // Recorded only when not the default, so a default lab's state reads as before.
    ...(t.nodes.length !== DEFAULT_LAB_NODES ? { nodes: t.nodes.length } : {}),
  };
  writeState(t, state);

  await step("namespaces", () => Promise.all(labNamespaces(t).map(createNamespace)));
  await step("links, addresses, routes", () => buildNetwork(t));
  if (backend === "neg") await step("NEG: alias IP routes and VPC firewall in the lb namespace", () => buildNegNetwork(t, interfaceNames(t).lbBridge));
  await step("sysctls", () => Promise.all(t.nodes.map((n) => nodeSysctls(n))));
  await step("kube-proxy filter and nat rules (iptables-restore)", () => Promise.all(t.nodes.map((n) => loadKubeProxyRules(t, n))));

  await step("pods", async () => {
    await Promise.all(t.pods.map((pod) => startPod(t, pod, state)));
    writeState(t, state);
  });

  await step("sshd on every node", async () => {
    const key = generateClientKeyPair(`lab-verifier@${t.prefix}`);
    writeClientKey(t, key.privateKey);
    state.clientPublicKey = key.publicKey;
    const instances = await Promise.all(
      t.nodes.map((node) =>
        startSshd({
          namespace: node.namespace,
          listenAddress: node.externalIp,
          port: t.sshPort,
          dir: paths.sshdDir(node.name),
          authorizedKeys: [key.publicKey],
          allowUsers: [t.sshUser],
          detached: true,
          keepDir: true,
          // A lab node is not the host: its SSH sessions get an empty home, so the host root's shell
          // profile (run by bash for every ssh command) neither slows nor changes what is read.
          hideHome: "/root",
          // and its own processes: `ss -p` on a node walks that node's processes, not the whole lab's
          ownPids: true,
        }),
      ),
    );
    for (const [i, instance] of instances.entries()) {
      state.pids[`sshd ${t.nodes[i].name}`] = instance.pid;
      state.hostKeys[t.nodes[i].name] = instance.hostPublicKey;
    }
    writeState(t, state);
  });

  await step(backend === "neg" ? "load balancer (health checks pass on every NEG endpoint)" : "load balancer (health checks pass on every node)", async () => {
    const config = {
      listenIp: t.lb.publicIp,
      listenPort: t.lb.publicPort,
      sourceIp: t.lb.vpcIp,
      backends: backend === "neg" ? negLbBackends(t) : t.nodes.map((n) => ({ name: n.name, ip: n.internalIp, port: t.service.nodePort })),
      healthCheckPath: "/",
      healthCheckIntervalMs: t.lb.healthCheckIntervalMs,
      healthCheckTimeoutMs: 1000,
      unhealthyThreshold: 2,
      healthyThreshold: 1,
      keepAlive,
      controlSocket: paths.lbControlSocket,
      requestTimeoutMs: 5000,
    };
    const proc = spawnInNamespace(t.lb.namespace, nodeScript(LB_PROXY, JSON.stringify(config)), {
      detached: true,
      logFile: join(paths.logDir, "lb.log"),
    });
    state.pids.lb = proc.pid;
    writeState(t, state);
    await waitForHealthy(paths.lbControlSocket, 15_000);
  });

  state.complete = true;
  writeState(t, state);
  return { built: true, timings, state };
}

/** A clear, expected failure (not root, tools missing, collision): the CLI prints it without a stack. */
export class LabError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "LabError";
  }
}

async function isHealthy(t: LabTopology, state: LabState): Promise<boolean> {
  const namespaces = await listNamespaces(t.prefix);
  if (!labNamespaces(t).every((ns) => namespaces.includes(ns))) return false;
  if (!Object.values(state.pids).every(processRunning)) return false;
  try {
    const status = await lbStatus(labPaths(t).lbControlSocket);
    return status.backends.every((b) => b.state === "HEALTHY");
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------- the network

/**
 * Interface names carry the lab prefix even inside namespaces: veth pairs are created in the root
 * namespace before being moved, and a crash in between leaves a link `lab down` can find by name.
 */
export function interfaceNames(t: LabTopology) {
  const p = t.prefix;
  return {
    clientPublic: `${p}cl`,
    lbPublic: `${p}lbp`,
    lbBridge: `${p}vpc`,
    nodeVpc: (k: number) => `${p}n${k}`,
    lbPort: (k: number) => `${p}n${k}b`,
    nodeManagement: (k: number) => `${p}m${k}n`,
    rootManagementPort: (k: number) => `${p}m${k}`,
    nodePodSide: (k: number) => `${p}p${k}n`,
    pod: (k: number) => `${p}p${k}`,
  };
}

async function buildNetwork(t: LabTopology): Promise<void> {
  const names = interfaceNames(t);
  const ipLb = (args: string[]) => run("ip", ["-n", t.lb.namespace, ...args]);

  // The "internet": client <-> LB public IP. The client gets no other route.
  await createVeth(
    { namespace: t.client.namespace, ifname: names.clientPublic, address: `${t.client.ip}/24` },
    { namespace: t.lb.namespace, ifname: names.lbPublic, address: `${t.lb.publicIp}/24` },
  );

  // The VPC subnet: a bridge in the lb namespace joins the LB and every node's internal IP.
  await ipLb(["link", "add", names.lbBridge, "type", "bridge"]);
  await addAddress(t.lb.namespace, names.lbBridge, `${t.lb.vpcIp}/24`);
  await setLinkUp(t.lb.namespace, names.lbBridge);

  // Management: a bridge in the root namespace to each node's sshd (its "external IP").
  await run("ip", ["link", "add", t.management.bridge, "type", "bridge"]);
  await addAddress(undefined, t.management.bridge, `${t.management.gatewayIp}/24`);
  await setLinkUp(undefined, t.management.bridge);

  // veth pairs are created in the root namespace and moved, so they are made one at a time to keep
  // names from colliding there; each node's pairs are independent of the other nodes'.
  for (const [i, node] of t.nodes.entries()) {
    const k = i + 1;
    await createVeth(
      { namespace: node.namespace, ifname: names.nodeVpc(k), address: `${node.internalIp}/24` },
      { namespace: t.lb.namespace, ifname: names.lbPort(k) },
    );
    await ipLb(["link", "set", names.lbPort(k), "master", names.lbBridge]);
    await createVeth(
      { namespace: node.namespace, ifname: names.nodeManagement(k), address: `${node.externalIp}/24` },
      { ifname: names.rootManagementPort(k) },
    );
    await run("ip", ["link", "set", names.rootManagementPort(k), "master", t.management.bridge]);
  }

  // Pods: one veth per pod from its node; the node's end holds the gateway of the node's pod range.
  for (const [i, pod] of t.pods.entries()) {
    const k = i + 1;
    const node = t.nodes.find((n) => n.name === pod.nodeName)!;
    await createVeth(
      { namespace: node.namespace, ifname: names.nodePodSide(k), address: `${node.podGateway}/24` },
      { namespace: pod.namespace, ifname: names.pod(k), address: `${pod.ip}/24` },
    );
    await addRoute(pod.namespace, "default", { via: node.podGateway });
  }

  // Like a cluster network: each node routes the other nodes' pod ranges via their internal IPs.
  // One `ip -batch` per node: 50 nodes need 2450 routes, which one process per route makes slow.
  await Promise.all(
    t.nodes.map((node) => {
      const routes = t.nodes.filter((other) => other !== node).map((other) => `route replace ${other.podCidr} via ${other.internalIp}\n`);
      return run("ip", ["-n", node.namespace, "-batch", "-"], { input: routes.join("") });
    }),
  );
}

export async function nodeSysctls(node: LabNode): Promise<void> {
  // Nodes forward packets to pods on other nodes (DNAT then route). rp_filter stays at the
  // namespace default (0 in a fresh netns), which the symmetric routes here would satisfy anyway;
  // route_localnet is not needed because nothing here reaches a nodePort through 127.0.0.1.
  await execInNamespace(node.namespace, ["sysctl", "-q", "-w", "net.ipv4.ip_forward=1"]);
}

/**
 * Starts (or restarts, after the caller stopped it) one pod's server in its namespace and waits
 * until it listens; its pid and variant go into `state` (the caller writes it).
 */
export async function startPod(t: LabTopology, pod: LabPod, state: LabState, variant: PodVariant = {}): Promise<void> {
  const port = variant.port ?? t.service.podPort;
  const listen = variant.listen ?? "0.0.0.0";
  const args = ["--name", pod.name, "--ip", pod.ip, "--port", String(port), "--listen", listen, "--lab", `${t.stateDir}/`];
  for (const [path, status] of Object.entries(variant.answers ?? {})) args.push("--answer", `${path}=${status}`);
  const proc = spawnInNamespace(pod.namespace, nodeScript(POD_SERVER, ...args), {
    detached: true,
    logFile: join(labPaths(t).logDir, `${pod.name}.log`),
  });
  state.pids[pod.name] = proc.pid;
  state.podVariants = { ...(state.podVariants ?? {}), [pod.name]: variant };
  await waitForListener(pod.namespace, listen, port, 10_000);
}

export function natRulesSpec(t: LabTopology, nodeName: string, externalTrafficPolicy: "Cluster" | "Local" = "Cluster"): NatRulesSpec {
  return {
    nodeName,
    clusterCIDR: t.clusterCidr,
    services: [
      {
        namespace: t.service.namespace,
        name: t.service.name,
        protocol: "tcp",
        clusterIP: t.service.clusterIP,
        port: t.service.port,
        nodePort: t.service.nodePort,
        externalTrafficPolicy,
        endpoints: t.pods.map((p) => ({ ip: p.ip, port: t.service.podPort, nodeName: p.nodeName })),
      },
    ],
  };
}

/**
 * Loads kube-proxy's filter and nat tables on one node in one iptables-restore: both tables are
 * replaced whole (whatever a fault or a hand left there goes), the FORWARD policy back to ACCEPT.
 */
export async function loadKubeProxyRules(t: LabTopology, node: LabNode, externalTrafficPolicy: "Cluster" | "Local" = "Cluster"): Promise<void> {
  const spec = natRulesSpec(t, node.name, externalTrafficPolicy);
  await execInNamespace(node.namespace, ["iptables-restore", "-w"], { input: writeFilterRules(spec) + writeNatRules(spec) });
}
