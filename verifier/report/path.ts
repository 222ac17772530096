// The report's `path`: the article's hops in the order a request crosses them (design.md, "The
// article's terms" and "contract: verify report JSON"), each with its real values, the verdict of
// the claims that speak about it, and, for the node hops, one entry per node with the rule it
// passes and the new connections the nat counters saw there. Pure: reads the model, the checks'
// results and the connection account; every report renders from this one list.
import type { CheckResult, ClaimId, Diagnosis, DiagnosisHop, PathModel, Verdict } from "../model";
import { CONTAINER_NEG_TYPE } from "../neg";
import type { RuleRef, TracedEndpoint } from "../iptables/types";
import { buildContext, endpointKey, serviceChainOf, type NodeView } from "../checks/context";
import { accountNewConnections, type ConnectionAccount } from "../checks/connections";
import { defaultBackendService, pathBackendServices } from "../checks/loadbalancer";
import { negPathView, unreachedPods, unreachedText } from "../checks/neg-path";
import { combine } from "../checks/verdict";
import { diagnose } from "../checks/diagnosis";

/** The hops, in the article's order: client -> LB public IP -> ... -> KUBE-SEP -> p-ip:p-port. */
export const PATH_HOPS = [
  "client",
  "lb-public-ip",
  "forwarding-rule",
  "target-proxy",
  "url-map",
  "backend-service",
  "instance-group",
  "network-endpoint-group",
  "endpoint",
  "node",
  "kube-nodeports",
  "kube-ext",
  "kube-svc",
  "kube-sep",
  "pod",
] as const;
export type PathHopId = (typeof PATH_HOPS)[number];

/** One endpoint a node's KUBE-SEP rules DNAT to. */
export interface PathEndpoint {
  chain?: string;
  /** p-ip and p-port */
  address: string;
  port: number;
  pod?: string;
  /** the node that runs the pod (it may be another node: kube-proxy sends across nodes) */
  podNode?: string;
  /** fraction of new connections kube-proxy's random cascade sends here, 0..1 */
  share: number;
  /** new connections the DNAT rule counted during the requests (absent: not counted) */
  newConnections?: number;
  /** the DNAT rule and its 1-based line in the node's dump */
  line?: number;
  rule?: string;
}

/** A node's part of a node hop. */
export interface PathNodeStep {
  node: string;
  verdict: Verdict;
  /** n-ip (node hop), s-ip (kube-svc hop) */
  address?: string;
  /** n-port (node, kube-nodeports), s-port (kube-svc) */
  port?: number;
  /** the chain this node's rules pass at this hop (KUBE-EXT-..., KUBE-SVC-...) */
  chain?: string;
  /** the rule that takes the packet here, verbatim, and its 1-based line in the node's dump */
  line?: number;
  rule?: string;
  /** new connections counted at this hop during the requests (absent: not counted) */
  newConnections?: number;
  /** pods of the Service running on this node (node hop) */
  pods?: string[];
  /** kube-sep hop: where this node's rules DNAT to */
  endpoints?: PathEndpoint[];
  /** why a value is missing or the step fails */
  note?: string;
}

export interface PathHop {
  hop: PathHopId;
  /** the resource or chain name (for node hops, the chain family or "node") */
  name: string;
  /** the article's name for the value: n-ip:n-port, s-ip:s-port, p-ip:p-port */
  term?: string;
  address?: string;
  port?: number;
  /** combined verdict of the claims that speak about this hop; cannot-tell when none does */
  verdict: Verdict;
  claims: ClaimId[];
  /** a short fact for the reader: "named port port30080 = 30080", "on node-1" */
  detail?: string;
  perNode?: PathNodeStep[];
  /** the container-native path does not cross this hop (the nodes' nat box); its claims are facts of the cluster */
  skipped?: boolean;
  /** endpoint hop: the health the backend service reports for p-ip:p-port */
  health?: string;
  /** endpoint hop: the node VM p-ip is routed through; network-endpoint-group hop: its zone */
  node?: string;
  zone?: string;
  /** endpoint hop: the NEG that holds it */
  group?: string;
}

/** Which claims judge each hop (the claims' own wording in design.md). */
const HOP_CLAIMS: Record<PathHopId, ClaimId[]> = {
  client: ["C12"],
  "lb-public-ip": ["C9"],
  "forwarding-rule": ["C9"],
  "target-proxy": ["C10"],
  "url-map": ["C10"],
  "backend-service": ["C10", "C11"],
  "instance-group": ["C1", "C10"],
  "network-endpoint-group": ["C1", "C10"],
  endpoint: ["C10", "C11"],
  node: ["C1", "C5"],
  "kube-nodeports": ["C2", "C3"],
  "kube-ext": ["C6"],
  "kube-svc": ["C4", "C6"],
  "kube-sep": ["C7"],
  pod: ["C8", "C12"],
};

/** The claims in the order of the hops they judge; C12 (client to pod, end to end) last. */
export const CLAIMS_ALONG_PATH: ClaimId[] = ["C9", "C10", "C11", "C1", "C5", "C3", "C2", "C6", "C4", "C7", "C8", "C12"];

export function orderClaimsAlongPath<T extends { id: ClaimId }>(results: T[]): T[] {
  const rank = (id: ClaimId) => CLAIMS_ALONG_PATH.indexOf(id);
  return [...results].sort((a, b) => rank(a.id) - rank(b.id));
}

const baseName = (urlOrName: string) => urlOrName.split("/").filter(Boolean).pop() ?? urlOrName;

function firstWalked(e: TracedEndpoint | undefined, test: (r: RuleRef) => boolean): RuleRef | undefined {
  return e?.evidence?.find(test);
}

/**
 * The path of one verify run, hop by hop in the article's order.
 * `account` defaults to the model's own counter account (undefined when no counters were read).
 * Values the sources did not read are left out, and a node step without its data says why in `note`.
 */
/** `diagnosis`: the run's, when the caller has it (else computed here); it marks nodes that cannot forward. */
export function buildPath(
  model: PathModel,
  results: CheckResult[],
  account: ConnectionAccount | undefined = accountNewConnections(model),
  diagnosis: Diagnosis[] = diagnose(model, results),
): PathHop[] {
  const ctx = buildContext(model);
  const lb = model.loadBalancer;
  const neg = ctx.mode.neg.detected ? negPathView(ctx) : undefined;
  // On the NEG path one claim (C10, C12) spans the URL map to the pods, so a failing claim marks
  // only the hops its diagnosis names; a failing claim no diagnosis places on a hop shown here
  // (or "unexplained") still marks every hop it judges.
  const placed = neg ? placedClaims(results, diagnosis) : new Set<ClaimId>();
  const verdictOf = (hop: PathHopId): Verdict => {
    const claims = HOP_CLAIMS[hop];
    const found = results.filter((r) => claims.includes(r.id));
    if (found.length === 0) return "cannot-tell";
    const own = combine(found.map((r) => (placed.has(r.id) ? "pass" : r.verdict)));
    return neg && diagnosis.some((d) => NEG_DIAGNOSIS_HOP[d.hop] === hop) ? "fail" : own;
  };
  const hop = (id: PathHopId, fields: Omit<PathHop, "hop" | "verdict" | "claims">): PathHop => ({ hop: id, ...fields, verdict: verdictOf(id), claims: HOP_CLAIMS[id] });

  const fr = lb?.forwardingRule;
  const lbPort = fr?.portRange ? Number(fr.portRange.split("-")[0]) : undefined;
  const lbIp = fr?.ipAddress ?? model.target.loadBalancerIp;
  // the backend service on the Service's path (host rules and path matchers first), not the URL map's default
  const backend = pathBackendServices(ctx)[0] ?? defaultBackendService(ctx) ?? lb?.backendServices[0];
  const onPath = (g: { name: string; zone: string }) => !backend || backend.backends.some((b) => baseName(b.group) === g.name && (b.zone === undefined || b.zone === g.zone));
  const groups = (lb?.instanceGroups ?? []).filter(onPath);
  const namedPort = groups.flatMap((g) => g.namedPorts).find((p) => p.name === backend?.portName);
  const requests = model.requests?.results ?? [];
  const ok = requests.filter((r) => r.status === 200).length;

  // the client row is what the client saw: requests without a 200 fail it wherever the cause sits
  const clientHop = hop("client", { name: "client", detail: requests.length ? `${requests.length} requests, ${ok} got HTTP 200` : undefined });
  if (neg && ok < requests.length) clientHop.verdict = results.find((r) => r.id === "C12")?.verdict ?? clientHop.verdict;
  const hops: PathHop[] = [
    clientHop,
    hop("lb-public-ip", { name: "LB public IP", address: lbIp, port: lbPort ?? (lbIp ? 80 : undefined) }),
    hop("forwarding-rule", { name: fr?.name ?? "(not read)", address: fr?.ipAddress, port: lbPort, detail: fr?.loadBalancingScheme }),
    hop("target-proxy", { name: lb?.targetProxy?.name ?? "(not read)", detail: lb?.targetProxy ? `target ${lb.targetProxy.kind.toUpperCase()} proxy` : undefined }),
    hop("url-map", {
      name: lb?.urlMap?.name ?? "(not read)",
      detail: lb?.urlMap?.defaultService ? `default backend ${baseName(lb.urlMap.defaultService)}` : undefined,
    }),
    hop("backend-service", {
      name: backend?.name ?? "(not read)",
      detail: backend?.portName ? `port name ${backend.portName}` : undefined,
    }),
  ];
  if (!neg) {
    hops.push(
      hop("instance-group", {
        name: groups.length ? groups.map((g) => g.name).filter((n, i, all) => all.indexOf(n) === i).join(", ") : "(not read)",
        term: "n-port",
        port: namedPort?.port,
        detail: namedPort ? `named port ${namedPort.name} = ${namedPort.port}` : undefined,
      }),
    );
  } else {
    // the container-native path: one hop per NEG (zone), one per endpoint p-ip:p-port with its health and node
    const expectedKeys = new Set(neg.expected.map((e) => e.key));
    const heldKeys = new Set(neg.actual.map((e) => e.key));
    const complete = neg.unreadEndpoints.length === 0 && neg.negBackends.every((b) => b.neg);
    const unreached = unreachedPods(ctx, neg);
    for (const b of neg.negBackends) {
      const zone = b.zone ?? b.neg?.zone;
      const h = hop("network-endpoint-group", {
        name: b.group,
        ...(zone ? { zone } : {}),
        detail: b.neg ? `${b.neg.networkEndpointType}, ${b.neg.endpoints ? `${b.neg.endpoints.length} endpoint(s)` : "endpoints not read"}${b.zone ? ` in ${b.zone}` : ""}` : "not read",
      });
      // this zone's NEG on its own facts: what it holds that is stale, what of its zone it lacks
      const stale = neg.actual.some((e) => e.neg === b.neg && !expectedKeys.has(e.key));
      const lacks = complete && neg.expected.some((e) => !heldKeys.has(e.key) && e.node !== undefined && neg.nodeZone.get(e.node) === zone);
      // endpoint causes name the NEG without its zone: their zone is read from the facts above
      const named = diagnosis.some((d) => d.hop === "network-endpoint-group" && d.subject === b.group && d.cause !== "neg-endpoints-missing" && d.cause !== "neg-endpoints-stale");
      const wrongType = b.neg !== undefined && b.neg.networkEndpointType !== CONTAINER_NEG_TYPE;
      if (stale || lacks || named || wrongType) h.verdict = "fail";
      else if (!b.neg || !b.neg.endpoints) h.verdict = "cannot-tell";
      hops.push(h);
    }
    // a zone with Ready pods and no NEG on the backend service: its row says why its pods get nothing
    const status = model.kubernetes?.negStatus;
    for (const zone of [...new Set(unreached.filter((u) => u.why === "zone-without-neg").map((u) => u.zone!))].sort()) {
      const pods = unreached.filter((u) => u.zone === zone).map((u) => u.pod);
      const listed = status?.zones.includes(zone) ? Object.values(status.networkEndpointGroups)[0] : undefined;
      hops.push({
        ...hop("network-endpoint-group", {
          name: listed ?? "(none)",
          zone,
          detail: `${listed ? `in ${zone} (the Service's neg-status lists it), not a backend of` : `none in ${zone} on`} ${backend ? `backend service ${backend.name}` : "the backend service"}: ${pods.join(", ")} in ${zone} get${pods.length === 1 ? "s" : ""} no request`,
        }),
        verdict: "fail",
      });
    }
    for (const e of neg.actual) {
      const pod = ctx.pods.find((p) => p.ip === e.ip);
      // Each endpoint's own verdict (C10 and C11 judge them all at once): its health, and whether a
      // pod of the Service has its address (else it is stale).
      const walled = e.instance !== undefined && diagnosis.some((d) => d.hop === "firewall" && d.subject.split(", ").includes(e.instance!));
      const verdict: Verdict = !pod || walled ? "fail" : e.health === "HEALTHY" ? "pass" : e.health === undefined || e.health === "UNKNOWN" ? "cannot-tell" : "fail";
      hops.push({
        ...hop("endpoint", {
          name: pod?.name ?? `${e.ip}:${e.port ?? "?"}`,
          term: "p-ip:p-port",
          address: e.ip,
          port: e.port,
          health: e.health ?? "UNKNOWN",
          group: e.neg.name,
          ...(e.neg.zone ? { zone: e.neg.zone } : {}),
          ...(e.instance ? { node: e.instance } : {}),
          detail: `${e.health ?? "health not read"}, in ${e.neg.name}${e.instance ? `, routed through ${e.instance} (forwarded, not NATed)` : ""}${pod ? "" : ", no pod of the Service has this address"}`,
        }),
        verdict,
      });
    }
    // the endpoints no NEG backend holds: named, with why the LB never sends to them
    for (const u of unreached) {
      const e = neg.expected.find((x) => x.key === u.key);
      hops.push({
        ...hop("endpoint", {
          name: u.pod,
          term: "p-ip:p-port",
          ...(e ? { address: e.ip, port: e.port } : {}),
          ...(u.zone ? { zone: u.zone } : {}),
          ...(u.node ? { node: u.node } : {}),
          detail: `in no NEG: ${unreachedText(u, backend?.name, true)}`,
        }),
        verdict: "fail",
      });
    }
  }

  const counted = (node: string) => account?.nodes.find((n) => n.node === node && !n.unavailable);
  const noData = (v: NodeView) =>
    v.node?.transport === "snapshot"
      ? `no node files for ${v.name} in the folder`
      : v.node?.reachable === false
        ? `${v.name} was not reachable over SSH`
        : `${v.name}'s nat table was not read`;
  const podsOf = new Map(ctx.pods.map((p) => [p.ip, p]));
  const readyEndpoints = (model.kubernetes?.endpoints ?? []).filter((e) => e.ready);

  // A node that cannot forward what it DNATs (or is down) fails at its own hop, as the diagnosis says;
  // a pod-less node under externalTrafficPolicy: Local is unhealthy by design, not broken.
  const brokenNode = new Map(
    diagnosis
      .filter((d) => (d.hop === "node" || d.hop === "node-forwarding") && d.cause !== "no-local-endpoint")
      .map((d) => [d.subject, d]),
  );
  hops.push(
    hop("node", {
      name: "node",
      term: "n-ip:n-port",
      port: ctx.nodePort,
      perNode: ctx.nodes.map((v) => {
        const broken = brokenNode.get(v.name);
        return {
          node: v.name,
          verdict: broken ? "fail" : v.internalIp ? "pass" : "cannot-tell",
          address: v.internalIp,
          port: ctx.nodePort,
          pods: v.pods.map((p) => p.name),
          ...(broken ? { note: `${broken.cause}: ${broken.summary}` } : v.internalIp ? {} : { note: `${v.name}'s internal IP is not known` }),
        };
      }),
    }),
  );

  const nodePortStep = (v: NodeView): PathNodeStep => {
    if (!v.trace) return { node: v.name, verdict: "cannot-tell", note: noData(v) };
    const eps = v.traced?.nodePortEndpoints;
    if (!eps || eps.length === 0) return { node: v.name, verdict: "fail", port: ctx.nodePort, note: eps ? `n-port ${ctx.nodePort} leads nowhere here` : `no rule for n-port ${ctx.nodePort}` };
    const rule = firstWalked(eps[0], (r) => r.chain === "KUBE-NODEPORTS" || /--dport \d+/.test(r.text));
    const entry = counted(v.name)?.nodePortEntries;
    return { node: v.name, verdict: "pass", port: ctx.nodePort, line: rule?.line, rule: rule?.text, ...(entry ? { newConnections: entry.newConnections } : counted(v.name) ? { newConnections: 0 } : {}) };
  };
  hops.push(hop("kube-nodeports", { name: "KUBE-NODEPORTS", term: "n-port", port: ctx.nodePort, perNode: ctx.nodes.map(nodePortStep) }));

  const extStep = (v: NodeView): PathNodeStep => {
    if (!v.trace) return { node: v.name, verdict: "cannot-tell", note: noData(v) };
    const first = v.traced?.nodePortEndpoints?.[0];
    const rule = firstWalked(first, (r) => r.chain.startsWith("KUBE-EXT-") || r.chain.startsWith("KUBE-XLB-"));
    // kube-proxy < 1.24 has no KUBE-EXT chain: KUBE-NODEPORTS jumps straight to KUBE-SVC.
    if (!rule) return { node: v.name, verdict: first ? "pass" : "cannot-tell", note: first ? "no KUBE-EXT chain (kube-proxy before 1.24)" : "no n-port path to follow" };
    return { node: v.name, verdict: "pass", chain: rule.chain, line: rule.line, rule: rule.text };
  };
  const extSteps = ctx.nodes.map(extStep);
  hops.push(hop("kube-ext", { name: extSteps.find((s) => s.chain)?.chain ?? "KUBE-EXT", perNode: extSteps }));

  const svcStep = (v: NodeView): PathNodeStep => {
    if (!v.trace) return { node: v.name, verdict: "cannot-tell", note: noData(v) };
    const first = v.traced?.endpoints[0];
    const chain = serviceChainOf(first, v.traced);
    if (!first || !chain) return { node: v.name, verdict: "fail", address: ctx.clusterIP, port: ctx.port?.port, note: `no rule sends s-ip:s-port ${ctx.clusterIP ?? "?"}:${ctx.port?.port ?? "?"} anywhere` };
    const rule = firstWalked(first, (r) => r.chain === "KUBE-SERVICES" && r.text.includes(`-j ${chain}`));
    return { node: v.name, verdict: "pass", address: ctx.clusterIP, port: ctx.port?.port, chain, line: rule?.line, rule: rule?.text };
  };
  const svcSteps = ctx.nodes.map(svcStep);
  hops.push(hop("kube-svc", { name: svcSteps.find((s) => s.chain)?.chain ?? "KUBE-SVC", term: "s-ip:s-port", address: ctx.clusterIP, port: ctx.port?.port, perNode: svcSteps }));

  const sepStep = (v: NodeView): PathNodeStep => {
    if (!v.trace) return { node: v.name, verdict: "cannot-tell", note: noData(v) };
    const eps = v.traced?.nodePortEndpoints ?? v.traced?.endpoints ?? [];
    const account = counted(v.name);
    const endpoints: PathEndpoint[] = eps.map((e) => {
      const dnat = firstWalked(e, (r) => /DNAT|dnat/.test(r.text));
      const moved = account?.endpoints.find((c) => c.chain === e.chain || c.endpoint === endpointKey(e.ip, e.port));
      const pod = podsOf.get(e.ip);
      return {
        chain: e.chain,
        address: e.ip,
        port: e.port,
        pod: pod?.name,
        podNode: pod?.nodeName,
        share: e.share,
        ...(account ? { newConnections: moved?.newConnections ?? 0 } : {}),
        line: dnat?.line,
        rule: dnat?.text,
      };
    });
    const total = account ? endpoints.reduce((s, e) => s + (e.newConnections ?? 0), 0) : undefined;
    // Kubernetes' ready endpoints are what the rules should reach; one no rule reaches is this node's break.
    const missing = readyEndpoints.filter((k) => !endpoints.some((e) => endpointKey(e.address, e.port) === endpointKey(k.ip, k.port)));
    const note =
      endpoints.length === 0
        ? "the rules DNAT to no pod"
        : missing.length > 0
          ? `no KUBE-SEP rule here DNATs to ${missing.map((k) => `${endpointKey(k.ip, k.port)}${k.podName ? ` ${k.podName}` : ""}`).join(", ")}, which Kubernetes lists as ready`
          : undefined;
    return { node: v.name, verdict: note ? "fail" : "pass", endpoints, ...(total !== undefined ? { newConnections: total } : {}), ...(note ? { note } : {}) };
  };
  hops.push(hop("kube-sep", { name: "KUBE-SEP", term: "p-ip:p-port", perNode: ctx.nodes.map(sepStep) }));

  if (neg) {
    // the nat box is not on the container-native path: shown as skipped, with the counters that prove it
    for (const h of hops.filter((x) => ["node", "kube-nodeports", "kube-ext", "kube-svc", "kube-sep"].includes(x.hop))) {
      h.skipped = true;
      const moved = h.hop === "kube-nodeports" ? (h.perNode ?? []).filter((p) => p.newConnections !== undefined) : [];
      const total = moved.reduce((s, p) => s + (p.newConnections ?? 0), 0);
      h.detail =
        h.hop === "kube-nodeports" && moved.length > 0
          ? `skipped on the NEG path: KUBE-NODEPORTS counted ${total} new connection(s) on ${moved.length} node(s) during the requests${total === 0 ? " (they stayed still while the pods answered)" : " (those requests entered by n-port, not through the NEG)"}`
          : "skipped on the NEG path: the LB sends to p-ip:p-port; the nodes forward without NAT (facts of the cluster, not hops of this path)";
    }
  }
  const answered = (name: string) => requests.filter((r) => r.status === 200 && r.podName === name).length;
  const podPort = (ip?: string) => {
    const fromRules = ctx.nodes.flatMap((v) => v.traced?.endpoints ?? []).find((e) => e.ip === ip)?.port;
    return fromRules ?? (typeof ctx.port?.targetPort === "number" ? ctx.port.targetPort : model.target.expected?.podPort);
  };
  const unreachedPod = new Map((neg ? unreachedPods(ctx, neg) : []).map((u) => [u.pod, u]));
  for (const p of ctx.pods) {
    const u = unreachedPod.get(p.name);
    const h = hop("pod", {
      name: p.name,
      term: "p-ip:p-port",
      address: p.ip,
      port: podPort(p.ip),
      detail:
        ([p.nodeName ? `on ${p.nodeName}` : undefined, requests.length ? `answered ${answered(p.name)} of ${requests.length} requests` : undefined].filter(Boolean).join(", ") || undefined) +
        (u ? `: ${unreachedText(u, backend?.name)}` : ""),
    });
    if (neg) {
      // on the NEG path each pod on its own: one no NEG holds fails, one the diagnosis names fails,
      // one that answered holds for C12
      // one that answered holds for C12; a Ready one that answered nothing keeps C12's own verdict
      const c8 = results.filter((r) => r.id === "C8").map((r): Verdict => (placed.has(r.id) ? "pass" : r.verdict));
      const c12 = results.find((r) => r.id === "C12");
      if (u || diagnosis.some((d) => d.hop === "pod" && d.subject === p.name)) h.verdict = "fail";
      else if (answered(p.name) > 0) h.verdict = combine([...c8, "pass"]);
      else if (requests.length > 0 && p.ready && c12) h.verdict = combine([...c8, c12.verdict]);
    }
    hops.push(h);
  }
  return hops;
}

/**
 * Where a diagnosis hop shows on the NEG path's rows (the path's own hops); hops with no row here
 * (the Service, the endpoints' list, the nodes) leave their claims marking every hop they judge.
 * Causes at a pod or a NEG mark those rows by subject, in buildPath.
 */
const NEG_DIAGNOSIS_HOP: Partial<Record<DiagnosisHop, PathHopId>> = {
  client: "client",
  "forwarding-rule": "forwarding-rule",
  "target-proxy": "target-proxy",
  "url-map": "url-map",
  "backend-service": "backend-service",
  "health-check": "backend-service",
};
const NEG_ROW_HOPS = new Set<DiagnosisHop>([...(Object.keys(NEG_DIAGNOSIS_HOP) as DiagnosisHop[]), "network-endpoint-group", "pod", "firewall"]);

/** Failing claims every cause of which sits on a NEG path row: they mark those rows, not all their hops. */
function placedClaims(results: CheckResult[], diagnosis: Diagnosis[]): Set<ClaimId> {
  const out = new Set<ClaimId>();
  for (const r of results.filter((x) => x.verdict === "fail")) {
    const causes = diagnosis.filter((d) => (d.claims ?? []).includes(r.id));
    if (causes.length > 0 && causes.every((d) => d.cause !== "unexplained" && NEG_ROW_HOPS.has(d.hop))) out.add(r.id);
  }
  return out;
}
