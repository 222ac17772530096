// The article's big picture as a Mermaid `flowchart TB`, filled with the real names, IPs, ports and
// counters: the load balancer outside the cluster, then every node side by side, each with its own
// nat step (KUBE-NODEPORTS -> KUBE-EXT -> KUBE-SVC, with its new-connection count), the pods in a
// row below (each naming its node), and an edge per KUBE-SEP rule from each node to the pod it DNATs to, also to pods on
// other nodes (node-2, with no pod, still sends to both). Drawn top-down so it stays narrow
// (about 250 px per node) and readable on a GitHub page; tests/verifier/mermaid-render.test.ts
// renders it with the real Mermaid.
import type { PathModel, CheckResult } from "../model";
import { buildContext } from "../checks/context";
import { plural } from "./layout";
import { buildPath, type PathHop, type PathNodeStep } from "./path";

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
const label = (...lines: (string | undefined | false)[]) => `"${lines.filter((l): l is string => !!l).map(mermaidText).join("<br/>")}"`;

const hostPort = (address?: string, port?: number) => `${address ?? "?"}:${port ?? "?"}`;

/**
 * The diagram's source (without the ```mermaid fence). `results` only colour the verdicts: a hop
 * whose claims fail is drawn with a red border; without results nothing is marked. `hops`: the path
 * the caller already built (buildPath), so the Markdown report does not build it twice.
 */
export function renderMermaid(model: PathModel, results: CheckResult[] = [], hops: PathHop[] = buildPath(model, results)): string {
  const ctx = buildContext(model);
  const get = (id: PathHop["hop"]) => hops.find((h) => h.hop === id);
  const step = (id: PathHop["hop"], node: string): PathNodeStep | undefined => get(id)?.perNode?.find((s) => s.node === node);
  const lb = model.loadBalancer;
  const lines: string[] = [
    // Labels wrap at 200 px by default, which broke resource names at their hyphens.
    "---",
    "config:",
    "  flowchart:",
    "    wrappingWidth: 400",
    "---",
    "flowchart TB",
    "  classDef podless stroke-dasharray: 5 5",
    "  classDef broken stroke:#d00,stroke-width:3px",
  ];
  const broken: string[] = [];
  const markIf = (id: string, hop?: { verdict: string }) => hop?.verdict === "fail" && results.length > 0 && broken.push(id);

  const fr = get("forwarding-rule");
  const lbIp = get("lb-public-ip");
  lines.push(`  client([${label("client")}])`);
  lines.push(`  subgraph glb[${label("Google Cloud load balancer, outside the cluster")}]`);
  lines.push(`    fr[${label("forwarding rule", fr?.name, `LB public IP ${hostPort(lbIp?.address, lbIp?.port)}`)}]`);
  lines.push(`    proxy[${label(`target ${lb?.targetProxy?.kind?.toUpperCase() ?? "HTTP"} proxy`, get("target-proxy")?.name)}]`);
  lines.push(`    urlmap[${label("URL map", get("url-map")?.name, "default backend")}]`);
  const bs = get("backend-service");
  lines.push(`    bs[${label("backend service", bs?.name, bs?.detail)}]`);
  const groups = lb?.instanceGroups ?? [];
  const bsModel = lb?.backendServices.find((b) => b.name === bs?.name);
  groups.forEach((g, i) => {
    const np = g.namedPorts.find((p) => p.name === bsModel?.portName) ?? g.namedPorts[0];
    lines.push(`    ig${i}[${label("instance group", g.name, g.zone, np ? `named port ${np.name}` : undefined, np ? `= n-port ${np.port}` : undefined)}]`);
  });
  // the container-native path: the NEGs (one per zone) replace the instance groups
  const negHops = hops.filter((h) => h.hop === "network-endpoint-group");
  negHops.forEach((h, i) => lines.push(`    neg${i}[${label("network endpoint group", h.name, h.zone, h.detail)}]`));
  lines.push("  end");
  lines.push(`  client -->|${label("HTTP")}| fr`);
  lines.push("  fr --> proxy --> urlmap --> bs");
  groups.forEach((_, i) => lines.push(`  bs --> ig${i}`));
  negHops.forEach((h, i) => {
    lines.push(`  bs --> neg${i}`);
    markIf(`neg${i}`, h);
  });
  markIf("fr", fr);
  markIf("urlmap", get("url-map"));
  markIf("bs", bs);

  const dpv2 = ctx.mode.dataplaneV2.detected;
  const svc = get("kube-svc");
  const nodeHop = get("node");
  const podIndex = new Map(ctx.pods.map((p, i) => [p.name, i]));
  const podHops = hops.filter((h) => h.hop === "pod");
  const podLabel = (i: number) => {
    const p = podHops[i];
    const node = ctx.pods[i].nodeName;
    return label(`pod ${p?.name ?? ctx.pods[i].name}`, node ? `on ${node}` : "node unknown", `p-ip:p-port`, hostPort(p?.address, p?.port));
  };
  const sIp = svc?.address ?? ctx.clusterIP;
  lines.push(`  subgraph cluster[${label(sIp ? `cluster: s-ip:s-port ${hostPort(sIp, svc?.port ?? ctx.port?.port)} is on no interface` : "cluster")}]`);
  if ((nodeHop?.perNode ?? []).length === 0 && ctx.pods.length === 0) lines.push(`    unknown[${label("nodes and pods not read")}]`);
  (nodeHop?.perNode ?? []).forEach((n, i) => {
    const np = step("kube-nodeports", n.node);
    const ext = step("kube-ext", n.node);
    const sv = step("kube-svc", n.node);
    const podless = (n.pods ?? []).length === 0;
    lines.push(`    subgraph node${i}[${label(`${n.node}${podless ? " (no pod)" : ""}`)}]`);
    const natLines = dpv2
      ? ["eBPF service map", "(Dataplane V2: no iptables)"]
      : [
          `KUBE-NODEPORTS :${np?.port ?? ctx.nodePort ?? "?"}`,
          np?.newConnections !== undefined ? plural(np.newConnections, "new connection") : undefined,
          ext?.chain ? `→ ${ext.chain}` : undefined,
          sv?.chain ? `→ ${sv.chain}` : np?.note ?? sv?.note,
          // Each KUBE-SEP rule with the pod it DNATs to: the names stay in the box, so the
          // edges need only short labels and the picture stays narrow.
          ...(step("kube-sep", n.node)?.endpoints ?? []).flatMap((e) => [`→ ${e.chain ?? "KUBE-SEP"}`, `DNAT ${e.address}:${e.port}`]),
        ];
    const skipped = nodeHop?.skipped ? ["not on the NEG path (skipped)"] : [];
    lines.push(`      nat${i}[${label(`n-ip:n-port`, hostPort(n.address, n.port), ...natLines, ...skipped)}]`);
    if (podless || nodeHop?.skipped) lines.push(`      class nat${i} podless`);
    lines.push("    end");
    if ([np, ext, sv, step("kube-sep", n.node)].some((s) => s?.verdict === "fail")) broken.push(`nat${i}`);
  });
  // The pods in one row under the nodes, each naming its node. Mermaid's layout stacks node
  // subgraphs one under the other as soon as an edge enters another node's subgraph (node-2's
  // edges to the pods on node-1 and node-3 do), which made the picture three times as tall.
  ctx.pods.forEach((_, k) => lines.push(`    pod${k}([${podLabel(k)}])`));
  lines.push("  end");

  const nodeIndex = new Map((nodeHop?.perNode ?? []).map((n, i) => [n.node, i]));
  if (groups.length > 0) {
    groups.forEach((g, gi) => {
      const members = g.instances.filter((name) => nodeIndex.has(name)).map((name) => `nat${nodeIndex.get(name)}`);
      // Unlabelled: each nat box names its own n-ip:n-port, so one label per edge would say it twice.
      if (members.length) lines.push(`  ig${gi} --> ${members.join(" & ")}`);
    });
  } else if (nodeIndex.size > 0 && !ctx.mode.neg.detected) {
    lines.push(`  bs --> ${[...nodeIndex.values()].map((i) => `nat${i}`).join(" & ")}`);
  }

  // One edge per KUBE-SEP rule: the chain name, its share and the new connections it DNATed.
  (nodeHop?.perNode ?? []).forEach((n, i) => {
    for (const e of step("kube-sep", n.node)?.endpoints ?? []) {
      const k = e.pod !== undefined ? podIndex.get(e.pod) : undefined;
      if (k === undefined) continue;
      const count = e.newConnections !== undefined ? `, ${e.newConnections} new` : "";
      lines.push(`  nat${i} -->|${label(`${(e.share * 100).toFixed(0)}%${count}`)}| pod${k}`);
    }
  });
  // Container-native LB: each NEG endpoint p-ip:p-port straight to its pod, past the nodes' nat rules.
  if (ctx.mode.neg.detected) {
    for (const e of hops.filter((h) => h.hop === "endpoint")) {
      const k = podIndex.get(e.name);
      // the NEG's name is the same in every zone: name and zone together say which box
      const i = negHops.findIndex((h) => h.name === e.group && h.zone === e.zone);
      if (k !== undefined && i >= 0) lines.push(`  neg${i} -.->|${label(`${hostPort(e.address, e.port)} ${e.health ?? ""}`, e.node ? `via ${e.node}, no NAT` : undefined)}| pod${k}`);
    }
  }
  if (broken.length > 0) lines.push(`  class ${broken.join(",")} broken`);
  return lines.join("\n");
}
