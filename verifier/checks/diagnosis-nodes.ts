// Causes read on the nodes: kube-proxy's nat rules, forwarding (filter table, ip_forward), what the
// node's probes to n-ip:n-port and each p-ip:p-port saw, and the pods behind them. Pure.
//
// Links between claims: an UNHEALTHY (or flapping) node is tied to its own cause (its nat rules,
// its forwarding) or to the pods its rules DNAT to; failed requests are tied to the per-endpoint
// DNAT counters; a pod-less node under externalTrafficPolicy Local is unhealthy by design.
import type { BackendHealthModel, CheckResult, ClaimId, Diagnosis, Evidence, NatDump, NodeProbe, PodModel } from "../model";
import { forwardVerdict } from "../iptables/forward-verdict";
import { dumpLine as originalLine } from "./trace-cache";
import { accountNewConnections, type ConnectionAccount } from "./connections";
import { endpointKey, ruleLine, type CheckContext, type NodeView } from "./context";
import { defaultBackendService } from "./loadbalancer";
import { NEG_READINESS_GATE } from "../neg";
import { negGate, negPathView, type ActualEndpoint } from "./neg-path";
import { walkNode } from "./path-walk";
import { list } from "./verdict";

/** Claim ids among `ids` that failed. */
function failing(results: CheckResult[], ids: ClaimId[]): ClaimId[] {
  return ids.filter((id) => results.find((r) => r.id === id)?.verdict === "fail");
}

/**
 * The health of each node as an instance-group backend of the backend service on the path;
 * "failing" = UNHEALTHY or HEALTHY with failed recent checks. Only instance-group entries: a NEG
 * endpoint's health (getHealth per NEG names the VM it sits on) is the health of p-ip:p-port, which
 * the NEG hop judges (neg-path.ts ActualEndpoint.health), not of the node it is routed through.
 */
function nodeHealth(ctx: CheckContext): Map<string, BackendHealthModel> {
  const lb = ctx.model.loadBalancer;
  const services = lb ? (defaultBackendService(ctx) ? [defaultBackendService(ctx)!] : lb.backendServices) : [];
  const map = new Map<string, BackendHealthModel>();
  for (const h of services.flatMap((s) => s.health)) if (h.groupKind !== "networkEndpointGroup") map.set(h.instance, h);
  return map;
}

/** The NEG endpoints among `endpoints` the LB does not find HEALTHY, as the NEG hop reports them. */
function unhealthyEndpoints(endpoints: ActualEndpoint[]): ActualEndpoint[] {
  return endpoints.filter((e) => e.health !== undefined && e.health !== "HEALTHY");
}

/** Each endpoint's health as evidence, quoted from where the NEG hop read it. */
function endpointHealthEvidence(endpoints: ActualEndpoint[], node: string): Evidence[] {
  return endpoints.map((e) => ({ source: e.healthSource ?? `compute networkEndpointGroups/${e.neg.name}`, detail: `${e.key}: ${e.health}`, node }));
}

const isFailing = (h: BackendHealthModel | undefined) => h !== undefined && (h.state !== "HEALTHY" || h.detail !== undefined);

function healthEvidence(h: BackendHealthModel): Evidence {
  return {
    source: `compute backendServices getHealth`,
    detail: `${h.instance} ${h.state}${h.detail ? ` (${h.detail})` : ""}`,
    node: h.instance,
    backend: h.group,
  };
}

function probeText(p: NodeProbe): string {
  const o = p.outcome;
  const what = o.kind === "http" ? `HTTP ${o.status}${o.location ? ` (Location ${o.location})` : ""}` : o.kind === "refused" ? "connection refused" : o.kind === "timeout" ? `no answer within ${o.afterMs / 1000} s` : `error: ${o.message}`;
  return `${p.target === "pod" ? `p-ip:p-port of ${p.pod}` : "n-ip:n-port"} ${p.address}:${p.port}${p.path} -> ${what}`;
}

function probeEvidence(node: string, p: NodeProbe): Evidence {
  return { source: `node ${node}: ${p.command}`, detail: probeText(p), node };
}

/** Requests that got no 200 (HTTP status or transport error), by what they got. */
function failedRequests(ctx: CheckContext): { total: number; text: string } {
  const results = ctx.model.requests?.results ?? [];
  const counts = new Map<string, number>();
  for (const r of results) {
    if (r.status === 200) continue;
    const key = r.status !== undefined ? `HTTP ${r.status}` : (r.error ?? "no answer");
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  return { total, text: [...counts].map(([k, n]) => `${n} × ${k}`).join(", ") };
}

/** The nodes whose rules send n-port traffic (or, failing that, clusterIP traffic) to this pod IP. */
function nodesDnatingTo(ctx: CheckContext, ip: string): NodeView[] {
  return ctx.nodes.filter((v) => (v.traced?.nodePortEndpoints ?? v.traced?.endpoints ?? []).some((e) => e.ip === ip));
}

/** "12 new connections were DNATed to p-ip:p-port (pod-2) ... = the 12 × HTTP 502" from the counters. */
function dnatCountEvidence(ctx: CheckContext, account: ConnectionAccount | undefined, pod: PodModel, podPort: number | undefined): Evidence | undefined {
  if (!account || !pod.ip) return undefined;
  const per = account.nodes
    .filter((n) => !n.unavailable)
    .map((n) => ({ node: n.node, count: n.endpoints.filter((e) => e.endpoint?.startsWith(`${pod.ip}:`)).reduce((s, e) => s + e.newConnections, 0) }))
    .filter((x) => x.count > 0);
  const total = per.reduce((s, x) => s + x.count, 0);
  const failed = failedRequests(ctx);
  if (total === 0 && failed.total === 0) return undefined;
  const tie =
    failed.total === 0
      ? "no request failed"
      : total === failed.total
        ? `exactly the ${failed.text}: each connection DNATed to ${pod.name} failed`
        : `${failed.text} in all (${total < failed.total ? "the rest failed elsewhere" : "a connection can carry several requests"})`;
  return {
    source: "counters (iptables-save -c before/after the requests)",
    detail: `${total} new connection(s) were DNATed to ${pod.ip}:${podPort ?? "?"} (${pod.name})${per.length ? ` [${per.map((x) => `${x.node} ${x.count}`).join(", ")}]` : ""} during the ${account.requests} requests; ${tie}`,
  };
}

/** Connections that entered a node at n-port but were DNATed nowhere (its nat rules lost part of the split). */
function undnatedEvidence(account: ConnectionAccount | undefined, node: string): Evidence | undefined {
  const n = account?.nodes.find((x) => x.node === node);
  if (!n || n.unavailable || !n.nodePortEntries) return undefined;
  const lost = n.nodePortEntries.newConnections - n.total;
  if (lost <= 0) return undefined;
  return {
    source: `node ${node}: iptables-save -c -t nat before/after`,
    detail: `${n.nodePortEntries.newConnections} new connections entered by n-port (line ${n.nodePortEntries.line}), ${n.total} were DNATed to a pod: ${lost} reached ${node} itself undNATed, where nothing listens (refused: the LB answers 502)`,
    node,
    line: n.nodePortEntries.line,
    rule: n.nodePortEntries.rule,
  };
}

export function nodeCauses(ctx: CheckContext, results: CheckResult[]): Diagnosis[] {
  const causes: Diagnosis[] = [];
  const health = nodeHealth(ctx);
  const account = accountNewConnections(ctx.model);
  const c12Fails = results.find((r) => r.id === "C12")?.verdict === "fail";
  const nodePort = ctx.nodePort;
  const podPort = typeof ctx.port?.targetPort === "number" ? ctx.port.targetPort : ctx.model.target.expected?.podPort;
  const local = ctx.service?.externalTrafficPolicy === "Local";
  const svcName = ctx.service ? `${ctx.service.namespace}/${ctx.service.name}` : "the Service";
  const kubeEndpoints = (ctx.model.kubernetes?.endpoints ?? []).filter((e) => e.ready);
  const withRules = ctx.nodes.filter((v) => v.traced);

  /** C11 when this node fails its health checks, C12 when requests failed and the LB may still send to it. */
  const linkNode = (node: string, ids: ClaimId[]): ClaimId[] => {
    const h = health.get(node);
    const extra: ClaimId[] = [];
    if (isFailing(h)) extra.push("C11");
    if (c12Fails && h?.state !== "UNHEALTHY") extra.push("C12");
    return failing(results, [...ids, ...extra]);
  };
  const nodeHealthEvidence = (node: string): Evidence[] => {
    const h = health.get(node);
    return h ? [healthEvidence(h)] : [];
  };
  const nodePortProbe = (v: NodeView): Evidence[] => (v.node?.probes ?? []).filter((p) => p.target === "node-port").map((p) => probeEvidence(v.name, p));

  for (const v of ctx.nodes) {
    if (!v.node?.reachable) continue;

    // ---- node-nat: the Service's rules missing on this node (while others have them)
    if (v.trace && !v.traced && !ctx.mode.dataplaneV2.detected) {
      // No rule in a KUBE-* chain and no jump to one: flushed (iptables -t nat -F leaves empty chains).
      const noKube = !/^-A KUBE-|-j KUBE-/m.test(natSection(v.node.nat?.text ?? ""));
      const other = withRules[0];
      const otherRule = other?.traced?.nodePortEndpoints?.[0]?.evidence?.find((r) => nodePort !== undefined && r.text.includes(`--dport ${nodePort}`));
      const evidence: Evidence[] = [
        {
          source: v.dumpSource,
          detail: noKube ? "no KUBE-* chain in the nat table" : `no rule of ${svcName} (clusterIP ${ctx.clusterIP ?? "?"}, n-port ${nodePort ?? "?"}) in the nat table`,
          node: v.name,
        },
      ];
      if (other && otherRule) evidence.push({ source: other.dumpSource, detail: `while ${other.name} has them: ${ruleLine(otherRule)}`, node: other.name, line: otherRule.line, rule: otherRule.text });
      evidence.push(...nodePortProbe(v), ...nodeHealthEvidence(v.name));
      causes.push({
        hop: "node-nat",
        subject: v.name,
        cause: noKube ? "kube-proxy-rules-missing" : "service-rules-missing",
        summary: noKube
          ? `${v.name}'s nat table has none of kube-proxy's KUBE-* chains${withRules.length > 0 ? ` (${withRules.map((x) => x.name).join(", ")} have them)` : ""}: n-ip:n-port ${v.internalIp ?? "?"}:${nodePort ?? "?"} is rewritten to no pod, and nothing listens there`
          : `${v.name}'s nat table has kube-proxy's chains but none for ${svcName}: n-ip:n-port ${v.internalIp ?? "?"}:${nodePort ?? "?"} leads to no pod`,
        evidence,
        fix: `have kube-proxy rewrite its rules on ${v.name}: delete its kube-proxy pod (kubectl -n kube-system delete pod -l component=kube-proxy --field-selector spec.nodeName=${v.name}) and find what flushed the table (a firewall script, iptables -t nat -F)`,
        claims: linkNode(v.name, ["C2", "C3", "C6", "C7"]),
      });
    }

    // ---- node-nat: a ready endpoint missing from this node's split (other nodes or Kubernetes have it)
    if (v.traced && kubeEndpoints.length > 0) {
      const traced = new Set(v.traced.endpoints.map((e) => endpointKey(e.ip, e.port)));
      const missing = kubeEndpoints.filter((e) => !traced.has(endpointKey(e.ip, e.port)));
      if (missing.length > 0) {
        const shareLeft = 1 - (v.traced.nodePortEndpoints ?? v.traced.endpoints).reduce((s, e) => s + e.share, 0);
        const evidence: Evidence[] = [];
        for (const ep of missing) {
          const holder = ctx.nodes.find((o) => o !== v && o.traced?.endpoints.some((e) => e.ip === ep.ip && e.port === ep.port));
          const dnat = holder?.traced?.endpoints.find((e) => e.ip === ep.ip)?.evidence?.find((r) => /DNAT/.test(r.text));
          evidence.push({
            source: v.dumpSource,
            detail: `no DNAT to ${ep.ip}:${ep.port}${ep.podName ? ` (${ep.podName})` : ""}; the rules lead to ${[...traced].join(", ") || "no pod"}${shareLeft > 0.001 ? `, and ${(shareLeft * 100).toFixed(0)}% of new connections to n-port match no DNAT rule` : ""}`,
            node: v.name,
          });
          if (holder && dnat) evidence.push({ source: holder.dumpSource, detail: `${holder.name} has it: ${ruleLine(dnat)}`, node: holder.name, line: dnat.line, rule: dnat.text });
        }
        const lost = undnatedEvidence(account, v.name);
        if (lost) evidence.push(lost);
        evidence.push(...nodeHealthEvidence(v.name));
        causes.push({
          hop: "node-nat",
          subject: v.name,
          cause: "endpoint-rule-missing",
          summary: `${v.name}'s kube-proxy rules lack the DNAT to ${missing.map((e) => `p-ip:p-port ${e.ip}:${e.port}${e.podName ? ` (${e.podName})` : ""}`).join(", ")}: the connections its KUBE-SVC split sends there are not rewritten and are refused on ${v.name}`,
          evidence,
          fix: `have kube-proxy rewrite its rules on ${v.name} (delete its kube-proxy pod; it restores every chain); look for whatever deleted the rule`,
          claims: linkNode(v.name, ["C7"]),
        });
      }
    }

    // ---- node-forwarding: ip_forward off, or the filter table drops what the node DNATs
    const fwd = v.node.forwarding;
    const dests = (v.traced?.nodePortEndpoints ?? v.traced?.endpoints ?? []).map((e) => e.ip);
    const ports = [...new Set((v.traced?.nodePortEndpoints ?? v.traced?.endpoints ?? []).map((e) => e.port))];
    const fwdProbe = nodePortProbe(v).map((e) => ({
      ...e,
      detail: `${e.detail} (the node's own connections are not forwarded, so this succeeds where the LB's fail)`,
    }));
    // On a NEG path the LB's connections go to p-ip:p-port of this node's pods, routed through the
    // node with no DNAT and no mark: judged as such, not as the n-port path's DNATed packets.
    const negEndpoints = ctx.mode.neg.detected ? negEndpointsOn(ctx, v.name) : [];
    if (fwd?.ipForward === false) {
      causes.push({
        hop: "node-forwarding",
        subject: v.name,
        cause: "ip-forward-disabled",
        summary:
          negEndpoints.length > 0
            ? `The VPC routes the LB's connections to NEG endpoint${negEndpoints.length === 1 ? "" : "s"} ${list(negEndpoints.map((e) => e.key))} through ${v.name}, but its net.ipv4.ip_forward is 0, so it does not forward them to its pods: the health checks time out and no request reaches them`
            : `${v.name} DNATs n-port ${nodePort ?? "?"} to the pods (p-ip ${dests.join(", ") || "?"}) but net.ipv4.ip_forward is 0, so it does not route the rewritten packets: the LB's connections time out`,
        evidence: [
          { source: `node ${v.name}: cat /proc/sys/net/ipv4/ip_forward`, detail: "0", node: v.name },
          ...fwdProbe,
          // on a NEG path the health is the endpoints' (the LB checks p-ip:p-port), not the node's
          ...(negEndpoints.length > 0 ? endpointHealthEvidence(unhealthyEndpoints(negEndpoints), v.name) : nodeHealthEvidence(v.name)),
        ],
        fix: `on ${v.name}: sysctl -w net.ipv4.ip_forward=1 (and find what reset it: a sysctl.d file, a hardening script)`,
        claims: negEndpoints.length > 0 ? failing(results, unhealthyEndpoints(negEndpoints).length > 0 ? ["C11", "C12"] : ["C12"]) : linkNode(v.name, []),
      });
    }
    if (fwd?.filter && negEndpoints.length > 0) {
      const cause = negForwardCause(ctx, results, v.name, fwd.filter, negEndpoints);
      if (cause) causes.push(cause);
    } else if (fwd?.filter && dests.length > 0) {
      const found = forwardVerdict(fwd.filter.text, { destinations: dests, ports, marked: !local });
      // a filter table cut down to the Service's rules quotes the lines as the node printed them
      const verdict = found.decidedBy ? { ...found, decidedBy: { ...found.decidedBy, line: originalLine(fwd.filter, found.decidedBy.line) } } : found;
      if (verdict.verdict === "drop") {
        const source = `node ${v.name}: ${fwd.filter.command} (filter table)`;
        const byPolicy = verdict.decidedBy === undefined;
        const evidence: Evidence[] = [
          byPolicy
            ? { source, detail: `:FORWARD ${verdict.policy}; ${verdict.kubeForwardJump ? "no rule accepts the DNATed packet" : "no jump to kube-proxy's KUBE-FORWARD (which accepts packets marked 0x4000)"}`, node: v.name }
            : { source, detail: `line ${verdict.decidedBy!.line}: ${verdict.decidedBy!.text}`, node: v.name, line: verdict.decidedBy!.line, rule: verdict.decidedBy!.text },
          ...fwdProbe,
          ...nodeHealthEvidence(v.name),
        ];
        causes.push({
          hop: "node-forwarding",
          subject: v.name,
          cause: byPolicy ? "forward-policy-drop" : "forward-rule-drop",
          summary: byPolicy
            ? `${v.name} DNATs n-port ${nodePort ?? "?"} to p-ip ${dests.join(", ")} but its filter FORWARD policy is ${verdict.policy} and nothing accepts the rewritten packets${verdict.kubeForwardJump ? "" : " (kube-proxy's KUBE-FORWARD is not jumped to)"}: the LB's connections time out`
            : `${v.name} DNATs n-port ${nodePort ?? "?"} to p-ip ${dests.join(", ")} but a FORWARD rule drops the rewritten packets (${verdict.decidedBy!.chain} line ${verdict.decidedBy!.line})`,
          evidence,
          fix: byPolicy
            ? `on ${v.name}: restore kube-proxy's jump (iptables -I FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD; restarting kube-proxy does it) or set the FORWARD policy to ACCEPT; find what changed it (Docker, a hardening script)`
            : `on ${v.name}: delete the rule (iptables -D ${verdict.decidedBy!.chain} ...) and find what added it`,
          claims: linkNode(v.name, []),
        });
      }
    }

    // ---- node: externalTrafficPolicy Local and no pod here: unhealthy by design
    if (local && v.pods.length === 0) {
      causes.push({
        hop: "node",
        subject: v.name,
        cause: "no-local-endpoint",
        summary: `By design, not a failure: ${svcName} has externalTrafficPolicy Local and ${v.name} runs none of its pods, so kube-proxy drops n-port ${nodePort ?? "?"} traffic from outside there and the LB marks ${v.name} UNHEALTHY; the LB uses the nodes with a pod (${ctx.nodes.filter((x) => x.pods.length > 0).map((x) => x.name).join(", ") || "none"})`,
        evidence: [
          { source: `kubernetes service ${svcName}`, detail: "spec.externalTrafficPolicy=Local" },
          ...(v.traced?.nodePortEndpoints?.length === 0 ? [{ source: v.dumpSource, detail: `n-port ${nodePort} leads to no local endpoint`, node: v.name }] : []),
          ...localDropRule(v, nodePort),
          ...nodeHealthEvidence(v.name),
        ],
        fix: "nothing to fix if you want the client's source IP kept (the article's picture of a pod-less node forwarding needs externalTrafficPolicy: Cluster)",
        claims: failing(results, isFailing(health.get(v.name)) ? ["C3", "C11"] : ["C3"]),
      });
    }
  }

  // ---- the walk: each node where a claim fails, link by link against the nodes where they hold
  // under Local each node's KUBE-SVL holds its own pods: nodes are no norm for each other (no-local-endpoint, external-traffic-policy-local say it)
  if (!ctx.mode.dataplaneV2.detected && !local) causes.push(...walkCauses(ctx, results, causes, linkNode, nodeHealthEvidence, c12Fails, local));

  if (local && ctx.service) {
    causes.push({
      hop: "service",
      subject: svcName,
      cause: "external-traffic-policy-local",
      summary: `${svcName} has externalTrafficPolicy Local: n-ip:n-port enters KUBE-SVL (this node's pods only), not the KUBE-SVC chain of s-ip:s-port, and keeps the client's address; the article's path assumes Cluster`,
      evidence: [{ source: `kubernetes service ${svcName}`, detail: "spec.externalTrafficPolicy=Local" }],
      fix: "set spec.externalTrafficPolicy: Cluster for the article's path (any node forwards to any pod); keep Local when the client's source IP matters",
      claims: failing(results, ["C6"]),
    });
  }

  // ---- pods: what the nodes' probes to p-ip:p-port saw
  for (const pod of ctx.pods) {
    if (!pod.ip) continue;
    const probes = ctx.nodes.flatMap((v) => (v.node?.probes ?? []).filter((p) => p.target === "pod" && p.address === pod.ip).map((p) => ({ node: v.name, p })));
    const dnating = nodesDnatingTo(ctx, pod.ip);
    const failingNodes = dnating.filter((v) => isFailing(health.get(v.name)));
    const links = (ids: ClaimId[]) => failing(results, [...ids, ...(failingNodes.length > 0 ? (["C11"] as ClaimId[]) : []), "C12"]);
    const evidence: Evidence[] = probes.slice(0, 3).map(({ node, p }) => probeEvidence(node, p));
    const counted = dnatCountEvidence(ctx, account, pod, podPort);
    const healthLines = failingNodes.map((v) => healthEvidence(health.get(v.name)!));
    const outcomes = probes.map(({ p }) => p.outcome);
    const target = `p-ip:p-port ${pod.ip}:${podPort ?? "?"}`;

    // On a NEG path a pod whose containers run but whose readiness gate waits for the LB is not
    // Ready because the LB has not seen it healthy: what the pod answers says why (below).
    const gateWaits = ctx.mode.neg.detected && waitsForNegGate(pod);
    if (!pod.ready && !gateWaits) {
      const why = ctx.model.problems.filter((p) => p.subject === pod.name).map((p) => p.message);
      causes.push({
        hop: "pod",
        subject: pod.name,
        cause: "pod-not-ready",
        summary: `${pod.name} is not ready${why.length ? ` (${why[0]})` : ""}, yet ${dnating.map((v) => v.name).join(", ") || "no node"} still DNAT${dnating.length === 1 ? "s" : ""} to ${target}: those connections are refused (the LB answers 502) and the nodes' health checks flap`,
        evidence: [
          { source: `kubernetes pod ${pod.name}`, detail: `ready=${pod.ready}${pod.phase ? `, phase=${pod.phase}` : ""}${why.length ? `; ${why.join("; ")}` : ""}` },
          ...evidence,
          ...(counted ? [counted] : []),
          ...healthLines,
        ],
        fix: `find why ${pod.name} stopped (kubectl describe pod ${pod.name}; kubectl logs ${pod.name} --previous); until kube-proxy drops its endpoint, nodes keep sending it connections`,
        claims: links(["C7"]),
      });
      continue;
    }
    const lbSaw = ctx.mode.neg.detected ? negHealthDetails(ctx, pod.ip) : [];
    if (outcomes.length === 0 && lbSaw.length === 0) continue;
    const refused = outcomes.filter((o) => o.kind === "refused").length;
    const http = outcomes.filter((o): o is { kind: "http"; status: number; location?: string } => o.kind === "http");
    const timeouts = outcomes.filter((o) => o.kind === "timeout").length;
    const path = probes[0]?.p.path ?? "/";

    if (refused > 0 && http.length === 0) {
      const listeners = pod.listeners;
      const loop = listeners?.filter((l) => (l.address === "127.0.0.1" || l.address === "::1") && l.port === podPort) ?? [];
      const elsewhere = listeners?.filter((l) => l.port !== podPort && !(l.address === "127.0.0.1" || l.address === "::1")) ?? [];
      const listenEvidence: Evidence[] = listeners ? [{ source: `pod ${pod.name}: ss -Hltn`, detail: listeners.length ? listeners.map((l) => `${l.address}:${l.port}`).join(", ") : "nothing listens" }] : [];
      const cause = loop.length > 0 ? "app-bound-to-loopback" : elsewhere.length > 0 ? "pod-listens-on-other-port" : "pod-port-refused";
      const summary =
        cause === "app-bound-to-loopback"
          ? `${pod.name}'s app listens on ${loop[0]!.address}:${podPort} only, so ${target} refuses every connection from the nodes (the app answers inside its pod, nowhere else)`
          : cause === "pod-listens-on-other-port"
            ? `${pod.name}'s app listens on port ${elsewhere.map((l) => l.port).join(", ")}, not on the Service's targetPort ${podPort}: ${target} refuses the connections the nodes DNAT there`
            : `${target} (${pod.name}) refuses connections from the nodes although the pod is ready: nothing listens there (the app listens on another port or only on 127.0.0.1)`;
      causes.push({
        hop: "pod",
        subject: pod.name,
        cause,
        summary,
        evidence: [...listenEvidence, ...evidence, ...(counted ? [counted] : []), ...healthLines],
        fix:
          cause === "app-bound-to-loopback"
            ? "make the app listen on 0.0.0.0 (all the pod's addresses), e.g. --host 0.0.0.0 / server.address=0.0.0.0"
            : `make the Service's targetPort the port the app listens on (or the app listen on ${podPort}); add a readiness probe on that port so a wrong port keeps the pod out of the endpoints`,
        claims: links([]),
      });
      continue;
    }
    // the LB's own health checker probes p-ip:p-port on a NEG path: its "HTTP 404" is the pod's answer
    const lbHttp = lbSaw.map((h) => /^HTTP (\d{3})\b/.exec(h.detail ?? "")).filter((m): m is RegExpExecArray => m !== null).map((m): { kind: "http"; status: number; location?: string } => ({ kind: "http", status: Number(m[1]) }));
    const answers = http.length > 0 ? http : lbHttp;
    const bad = answers.filter((o) => o.status !== 200);
    if (bad.length > 0 && bad.length === answers.length) {
      const first = bad[0]!;
      if (ctx.mode.neg.detected) {
        causes.push(negHealthCheckNot200(ctx, results, pod, target, first, probes.length > 0 ? path : undefined, [...evidence, ...lbSaw.map(negHealthEvidence)]));
        continue;
      }
      causes.push({
        hop: "pod",
        subject: pod.name,
        cause: "health-check-path-not-200",
        summary: `${pod.name} answers HTTP ${first.status}${first.location ? ` (Location ${first.location})` : ""} on the health check's path ${path} at ${target}; the LB's health check wants 200, so every node whose rules lead to ${pod.name} fails its checks though the pod runs`,
        evidence: [
          ...evidence,
          { source: "health check", detail: `requestPath=${path}${ctx.model.loadBalancer?.healthChecks?.[0] ? ` (${ctx.model.loadBalancer.healthChecks[0].name})` : ""}` },
          ...healthLines,
        ],
        fix: `serve 200 on ${path} (or point the readiness probe, which GKE copies into the health check, or a BackendConfig healthCheck.requestPath at a path that answers 200)`,
        claims: links([]),
      });
      continue;
    }
    if (outcomes.length === 0) continue;
    if (timeouts > 0 && http.length === 0) {
      causes.push({
        hop: "pod",
        subject: pod.name,
        cause: "pod-port-timeout",
        summary: `${target} (${pod.name}) does not answer the nodes within the probe's time: the app hangs, or a network policy or the pod's own firewall drops the connections`,
        evidence: [...evidence, ...healthLines],
        fix: `check ${pod.name}'s logs and any NetworkPolicy selecting it`,
        claims: links([]),
      });
    }
  }
  // The diagnosis explains failing claims: a finding that explains none (the path still works) is
  // not a cause of a broken path, and the healthy path's diagnosis stays empty.
  return causes.filter((c) => (c.claims ?? []).length > 0);
}

/** The per-node claims, C2 C3 C6 C7: a node is named in their summary when its part fails. */
const NODE_CLAIMS: ClaimId[] = ["C2", "C3", "C6", "C7"];
/** The hops of a node's own causes (its rules, its forwarding, the node itself). */
export const NODE_HOPS = new Set(["node", "node-nat", "node-forwarding"]);

/** Causes that name a whole shape of missing rules; the walk names the link instead. */
const WALKED_SHAPES = new Set(["endpoint-rule-missing", "service-rules-missing"]);

/** An endpoint's own link: its DNAT, or the KUBE-SVC rule that sends its share to its KUBE-SEP chain. */
function isEndpointLink(rule: { chain: string; target: { k: string; chain?: string } }): boolean {
  return rule.target.k === "dnat" || (/^KUBE-(?:SVC|SVL)-/.test(rule.chain) && (rule.target.chain ?? "").startsWith("KUBE-SEP-"));
}

const namesNode = (text: string, node: string) => new RegExp(`(?:^|[^\\w.-])${node.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(?:$|[^\\w-])`).test(text);

/** The failing per-node claims whose summary names this node. */
export function claimsNaming(results: CheckResult[], node: string): ClaimId[] {
  return results.filter((r) => r.verdict === "fail" && NODE_CLAIMS.includes(r.id) && namesNode(r.summary, node)).map((r) => r.id);
}

/**
 * The nodes a failing claim is about: those its summary names, else (health checks, requests) those
 * failing their health checks; [] when it names none. For the unexplained entry's subject.
 */
export function nodesOfClaim(ctx: CheckContext, r: CheckResult): { failing: string[]; others: string[] } {
  const health = nodeHealth(ctx);
  let failing = ctx.nodes.filter((v) => namesNode(r.summary, v.name)).map((v) => v.name);
  if (failing.length === 0 && (r.id === "C11" || r.id === "C12")) failing = ctx.nodes.filter((v) => isFailing(health.get(v.name))).map((v) => v.name);
  const others = ctx.nodes.filter((v) => !failing.includes(v.name) && v.node?.reachable && v.trace).map((v) => v.name);
  return { failing, others };
}

/**
 * The walk (path-walk.ts) on every node where a claim fails: named by a per-node claim, failing its
 * health checks, or any node when requests failed. A node already explained by a specific cause
 * (a flushed table, a FORWARD policy, a missing DNAT...) keeps it, with the first differing link
 * added as evidence; any other node gets the link as its cause.
 */
function walkCauses(
  ctx: CheckContext,
  results: CheckResult[],
  found: Diagnosis[],
  linkNode: (node: string, ids: ClaimId[]) => ClaimId[],
  healthOf: (node: string) => Evidence[],
  c12Fails: boolean,
  local: boolean,
): Diagnosis[] {
  const health = nodeHealth(ctx);
  const out: Diagnosis[] = [];
  const suspect = (v: NodeView) => claimsNaming(results, v.name).length > 0 || isFailing(health.get(v.name));
  for (const v of ctx.nodes) {
    if (!v.node?.reachable || !v.trace) continue;
    if (!suspect(v) && !c12Fails) continue;
    const peers = ctx.nodes.filter((o) => o !== v && o.node?.reachable && o.trace && !suspect(o) && (!local || (o.pods.length > 0) === (v.pods.length > 0)));
    // with no node to compare with, kube-proxy's own rules are the norm, where the node's nat trace is wrong
    const finding = walkNode(ctx, v, peers, { written: !local && claimsNaming(results, v.name).length > 0 });
    if (!finding) continue;
    const claims = linkNode(v.name, claimsNaming(results, v.name));
    // a shape the walk reads link by link gives way to the walk's first link, keeping its counters
    const shapes = found.filter((c) => c.subject === v.name && WALKED_SHAPES.has(c.cause));
    for (const old of shapes) {
      found.splice(found.indexOf(old), 1);
      for (const id of old.claims ?? []) if (!claims.includes(id)) claims.push(id);
    }
    const kept = shapes.flatMap((c) => c.evidence.filter((e) => e.source.startsWith("counters") || e.source.includes("before/after")));
    const specific = found.find((c) => c.subject === v.name && NODE_HOPS.has(c.hop) && (c.claims ?? []).length > 0);
    if (specific) {
      if (!specific.evidence.some((e) => e.rule === finding.link.rule.text)) {
        specific.evidence.push({ source: "the walk along the Service's path", detail: finding.summary, node: v.name }, ...finding.evidence);
      }
      for (const id of claims) if (!specific.claims!.includes(id)) specific.claims!.push(id);
      continue;
    }
    if (claims.length === 0) continue;
    out.push({
      hop: finding.hop,
      subject: v.name,
      cause: finding.kind !== "missing" ? "path-rule-differs" : isEndpointLink(finding.link.rule) ? "endpoint-rule-missing" : "path-rule-missing",
      summary: finding.summary,
      evidence: [...finding.evidence, ...kept, ...healthOf(v.name)],
      fix: finding.fix,
      command: finding.command,
      claims,
    });
  }
  return out;
}

/** The pod's containers run (ContainersReady, True when not said) but its NEG readiness gate is not True. */
function waitsForNegGate(pod: PodModel): boolean {
  const gate = negGate(pod);
  return gate.has && gate.condition?.status !== "True" && (pod.conditions?.find((c) => c.type === "ContainersReady")?.status ?? "True") === "True";
}

/** The backend services' health entries for the NEG endpoint at this p-ip that carry the checker's detail ("HTTP 404"). */
function negHealthDetails(ctx: CheckContext, ip: string): BackendHealthModel[] {
  return (ctx.model.loadBalancer?.backendServices ?? []).flatMap((b) => b.health).filter((h) => h.groupKind === "networkEndpointGroup" && h.ipAddress === ip && h.detail !== undefined);
}

function negHealthEvidence(h: BackendHealthModel): Evidence {
  return { source: `compute backendServices getHealth ${h.group}`, detail: `${h.ipAddress}${h.port !== undefined ? `:${h.port}` : ""} on ${h.instance} ${h.state} (${h.detail})`, node: h.instance };
}

/**
 * health-check-path-not-200 on a NEG path: the LB's health checkers probe p-ip:p-port of each pod
 * directly (GKE, "Container-native load balancing": health checks go to the endpoints), so a pod
 * that answers anything but 200 on the health check's path is UNHEALTHY in its NEG, and its
 * readiness gate, which waits for the LB's word, stays False (the pod never becomes Ready).
 */
function negHealthCheckNot200(ctx: CheckContext, results: CheckResult[], pod: PodModel, target: string, first: { status: number; location?: string }, probedPath: string | undefined, evidence: Evidence[]): Diagnosis {
  const v = negPathView(ctx);
  const bs = v.backendServices.find((b) => b.healthChecks.length > 0);
  const hc = bs ? ctx.model.loadBalancer?.healthChecks?.find((h) => h.name === bs.healthChecks[0]) : undefined;
  const path = hc?.requestPath ?? probedPath ?? "/";
  const endpoint = v.actual.find((e) => e.ip === pod.ip);
  const waits = waitsForNegGate(pod);
  return {
    hop: "pod",
    subject: pod.name,
    cause: "health-check-path-not-200",
    summary: `${pod.name} answers HTTP ${first.status}${first.location ? ` (Location ${first.location})` : ""} on the health check's path ${path} at ${target}; on a NEG path the LB's health checkers probe that endpoint directly and want 200, so it is ${endpoint?.health ?? "not HEALTHY"} and the LB sends it no request${waits ? `, and its readiness gate ${NEG_READINESS_GATE} stays False, so the pod is not Ready` : ""}`,
    evidence: [
      ...evidence,
      ...(hc ? [{ source: `compute healthChecks/${hc.name}`, detail: `type=${hc.type}, requestPath=${hc.requestPath ?? "/"}`, resource: hc.name }] : []),
      ...(endpoint?.health && !evidence.some((e) => e.source.startsWith("compute backendServices getHealth")) ? [{ source: endpoint.healthSource ?? `compute networkEndpointGroups/${endpoint.neg.name}`, detail: `${endpoint.key}: ${endpoint.health}` }] : []),
    ],
    fix: `serve 200 on ${path} (or point the readiness probe, which GKE copies into the health check, or a BackendConfig healthCheck.requestPath at a path that answers 200)`,
    claims: failing(results, ["C11", "C12"]),
  };
}

/** The NEG endpoints the LB reaches through this node (its pods' p-ip:p-port), with their health. */
function negEndpointsOn(ctx: CheckContext, node: string): ActualEndpoint[] {
  return negPathView(ctx).actual.filter((e) => e.instance === node || (e.instance === undefined && ctx.pods.some((p) => p.ip === e.ip && p.nodeName === node)));
}

/**
 * forward-policy-drop / forward-rule-drop on a NEG path: the VPC routes the LB's connections to
 * p-ip:p-port through the pod's node, which forwards them unchanged (no DNAT, so no KUBE-MARK-MASQ
 * mark 0x4000); kube-proxy's KUBE-FORWARD accepts only marked or RELATED,ESTABLISHED packets
 * (pkg/proxy/iptables/proxier.go), so a FORWARD policy DROP with no other accepting rule drops the
 * health checks' and the requests' new connections. Undefined when the filter table accepts them
 * or cannot tell.
 */
function negForwardCause(ctx: CheckContext, results: CheckResult[], node: string, filter: NatDump, endpoints: ActualEndpoint[]): Diagnosis | undefined {
  const dests = [...new Set(endpoints.map((e) => e.ip))];
  const ports = [...new Set(endpoints.map((e) => e.port).filter((p): p is number => p !== undefined))];
  const found = forwardVerdict(filter.text, { destinations: dests, ports, marked: false });
  if (found.verdict !== "drop") return undefined;
  const byPolicy = found.decidedBy === undefined;
  const line = found.decidedBy ? originalLine(filter, found.decidedBy.line) : undefined;
  const source = `node ${node}: ${filter.command} (filter table)`;
  const targets = endpoints.map((e) => `${e.key}${ctx.pods.find((p) => p.ip === e.ip) ? ` (${ctx.pods.find((p) => p.ip === e.ip)!.name})` : ""}`);
  const unhealthy = unhealthyEndpoints(endpoints);
  const evidence: Evidence[] = [
    byPolicy
      ? { source, detail: `:FORWARD ${found.policy}; no rule accepts a new, unmarked connection to ${list(dests)}${found.kubeForwardJump ? " (KUBE-FORWARD accepts only packets marked 0x4000 or ctstate RELATED,ESTABLISHED)" : ""}`, node }
      : { source, detail: `line ${line}: ${found.decidedBy!.text}`, node, line, rule: found.decidedBy!.text },
    ...endpointHealthEvidence(unhealthy, node),
  ];
  const claims = failing(results, unhealthy.length > 0 ? ["C11", "C12"] : ["C12"]);
  if (claims.length === 0) return undefined;
  return {
    hop: "node-forwarding",
    subject: node,
    cause: byPolicy ? "forward-policy-drop" : "forward-rule-drop",
    summary: `The LB's connections to NEG endpoint${targets.length === 1 ? "" : "s"} ${list(targets)}, routed through ${node} with no DNAT, are dropped by ${node}'s filter ${byPolicy ? `FORWARD policy ${found.policy}: no rule accepts them (nothing marks them 0x4000 on this path, so KUBE-FORWARD does not)` : `rule ${found.decidedBy!.chain} line ${line}`}: the health checks to ${dests.length === 1 ? "that pod" : "those pods"} time out (${unhealthy.length > 0 ? `endpoint${unhealthy.length === 1 ? "" : "s"} ${list(unhealthy.map((e) => `${e.key} ${e.health}`))}` : "the LB marks them UNHEALTHY"}) and no request reaches the pods on ${node}`,
    evidence,
    fix: byPolicy
      ? `on ${node}: accept forwarded traffic to the pod range (iptables -A FORWARD -d <pod CIDR> -j ACCEPT, as GKE's node firewall does) or set the FORWARD policy to ACCEPT; find what changed it (a hardening script, Docker)`
      : `on ${node}: delete the rule (iptables -D ${found.decidedBy!.chain} ...) and find what added it`,
    claims,
  };
}

/** kube-proxy's "has no local endpoints" DROP for the nodePort in the node's filter table, as evidence. */
function localDropRule(v: NodeView, nodePort: number | undefined): Evidence[] {
  const text = v.node?.forwarding?.filter?.text ?? "";
  const lines = text.split("\n");
  const i = lines.findIndex((l) => l.includes("has no local endpoints") && nodePort !== undefined && l.includes(`--dport ${nodePort}`));
  if (i < 0) return [];
  const line = originalLine(v.node!.forwarding!.filter!, i + 1);
  return [{ source: `node ${v.name}: ${v.node!.forwarding!.filter!.command} (filter table)`, detail: `line ${line}: ${lines[i]}`, node: v.name, line, rule: lines[i] }];
}

/** The *nat table of an iptables-save dump (the whole text when it has no table headers, e.g. nft). */
function natSection(dump: string): string {
  const start = dump.indexOf("*nat");
  if (start < 0) return /^\*\w+/m.test(dump) ? "" : dump;
  const end = dump.indexOf("\nCOMMIT", start);
  return dump.slice(start, end < 0 ? undefined : end);
}
