// The article's big picture as a Mermaid `flowchart LR`, filled with the real names, IPs and ports.
import type { PathModel } from "../model";
import { buildContext, serviceChainOf } from "../checks/context";
import { baseName } from "../checks/loadbalancer";

/** Text inside a quoted Mermaid label: entity codes for the characters Mermaid would parse. */
export function mermaidText(text: string): string {
  return text
    .replace(/#/g, "#35;")
    .replace(/"/g, "#quot;")
    .replace(/</g, "#lt;")
    .replace(/>/g, "#gt;")
    .replace(/\|/g, "#124;")
    .replace(/[\r\n]+/g, " ");
}

/** A quoted label from lines (joined with <br/>, which Mermaid renders as a line break). */
const label = (...lines: (string | undefined)[]) => `"${lines.filter((l): l is string => !!l).map(mermaidText).join("<br/>")}"`;

export function renderMermaid(model: PathModel): string {
  const ctx = buildContext(model);
  const lb = model.loadBalancer;
  const lines: string[] = ["flowchart LR", "  classDef podless stroke-dasharray: 5 5"];
  const edge = (from: string, to: string, text?: string) => lines.push(`  ${from} -->${text ? `|${label(text)}|` : ""} ${to}`);

  const fr = lb?.forwardingRule;
  const port = fr?.portRange?.split("-")[0] ?? "80";
  lines.push(`  client([${label("client")}])`);
  lines.push(`  fr[${label("forwarding rule", fr?.name ?? "(not read)", `${fr?.ipAddress ?? model.target.loadBalancerIp ?? "?"}:${port}`)}]`);
  lines.push(`  proxy[${label(`target ${lb?.targetProxy?.kind?.toUpperCase() ?? "HTTP"} proxy`, lb?.targetProxy?.name ?? "(not read)")}]`);
  lines.push(`  urlmap[${label("URL map", lb?.urlMap?.name ?? "(not read)", "default backend")}]`);
  const bsName = lb?.urlMap?.defaultService ? baseName(lb.urlMap.defaultService) : undefined;
  const bs = lb?.backendServices.find((b) => b.name === bsName) ?? lb?.backendServices[0];
  lines.push(`  bs[${label("backend service", bs?.name ?? "(not read)", bs?.portName ? `port name ${bs.portName}` : undefined)}]`);
  edge("client", "fr", "HTTP");
  edge("fr", "proxy");
  edge("proxy", "urlmap");
  edge("urlmap", "bs");

  const nodePort = ctx.nodePort;
  const groups = lb?.instanceGroups ?? [];
  const vmId = (name: string) => `vm${ctx.nodes.findIndex((n) => n.name === name)}`;
  ctx.nodes.forEach((v, i) => {
    const podless = v.pods.length === 0;
    lines.push(`  vm${i}[${label(`VM ${v.name}`, `${v.internalIp ?? "?"}:${nodePort ?? "?"}`, podless ? "no pod here: still forwards" : `runs ${v.pods.map((p) => p.name).join(", ")}`)}]`);
    if (podless) lines.push(`  class vm${i} podless`);
  });
  if (groups.length > 0) {
    groups.forEach((g, i) => {
      const np = g.namedPorts.find((p) => p.name === bs?.portName) ?? g.namedPorts[0];
      lines.push(`  ig${i}[${label(`instance group ${g.name}`, g.zone, np ? `named port ${np.name} = ${np.port}` : undefined)}]`);
      edge("bs", `ig${i}`);
      g.instances.filter((name) => ctx.nodes.some((n) => n.name === name)).forEach((name) => edge(`ig${i}`, vmId(name)));
    });
  } else {
    ctx.nodes.forEach((_, i) => edge("bs", `vm${i}`));
  }

  // The service chain as the first node with a trace shows it (the rules are the same on every node).
  const traced = ctx.nodes.find((v) => v.traced)?.traced;
  const first = traced?.nodePortEndpoints?.[0] ?? traced?.endpoints[0];
  const chains = (first?.evidence ?? []).map((r) => r.chain).filter((c, i, all) => c.startsWith("KUBE-") && !c.startsWith("KUBE-SEP-") && all.indexOf(c) === i);
  const svcChain = serviceChainOf(first, traced);
  const dpv2 = ctx.mode.dataplaneV2.detected;
  lines.push(
    `  svc[${label(
      dpv2 ? "eBPF service map on every node (Dataplane V2: no iptables rules)" : "iptables nat on every node",
      nodePort !== undefined ? `KUBE-NODEPORTS --dport ${nodePort}` : undefined,
      ...chains.filter((c) => c !== "KUBE-SERVICES" && c !== "KUBE-NODEPORTS").map((c) => `→ ${c}`),
      chains.length === 0 && svcChain ? `→ ${svcChain}` : undefined,
      `clusterIP ${ctx.clusterIP ?? "?"}:${ctx.port?.port ?? "?"}`,
    )}]`,
  );
  ctx.nodes.forEach((_, i) => edge(`vm${i}`, "svc"));

  const shares = traced?.endpoints ?? [];
  ctx.pods.forEach((p, i) => {
    const share = shares.find((e) => e.ip === p.ip);
    const podPort = share?.port ?? (typeof ctx.port?.targetPort === "number" ? ctx.port.targetPort : model.target.expected?.podPort);
    lines.push(`  pod${i}[${label(`pod ${p.name}`, `${p.ip ?? "?"}:${podPort ?? "?"}`, p.nodeName ? `on ${p.nodeName}` : undefined)}]`);
    edge("svc", `pod${i}`, share ? `DNAT ${(share.share * 100).toFixed(0)}%` : "DNAT");
    // Container-native LB: the front end sends to the pod IPs itself, past the nodes' rules.
    if (ctx.mode.neg.detected) lines.push(`  bs -.->|${label("NEG: straight to the pod")}| pod${i}`);
  });
  return lines.join("\n");
}
