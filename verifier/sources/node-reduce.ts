// A node's iptables-save dump cut down to what the claims and the diagnosis need about one Service
// (the "focus"), so a node holding 10k Services' rules costs what a node holding one does. What is
// kept, table by table (nat, filter, and any other):
// - every chain that is not one Service's own (PREROUTING, OUTPUT, POSTROUTING, FORWARD, INPUT,
//   KUBE-SERVICES, KUBE-NODEPORTS, KUBE-MARK-MASQ, KUBE-POSTROUTING, KUBE-FORWARD, KUBE-FIREWALL,
//   a CNI's chains ...), with all its rules except those about another Service: a rule whose
//   kube-proxy comment names another Service ("ns/name:port ..."), or an uncommented jump into a
//   per-Service chain that matches neither the focus's s-ip nor its n-port. So KUBE-SERVICES keeps the
//   focus's s-ip:s-port rules and its final `--dst-type LOCAL -j KUBE-NODEPORTS` rule, KUBE-NODEPORTS
//   the focus's n-port rules, the filter table its verdicts with their policies.
// - the per-Service chains (KUBE-SVC-, KUBE-SVL-, KUBE-EXT-, KUBE-XLB-, KUBE-FW-, KUBE-SEP-) reached
//   from a kept rule, whole: the focus's own chains, and nothing of another Service's.
// Kept lines are verbatim (counters included), and `lineNumbers` maps each to its line in the node's own
// output, so evidence quotes "line N" as the node printed it. The per-Service chain prefixes are
// kube-proxy's (pkg/proxy/iptables/proxier.go: servicePortPolicyClusterChain and friends).
import type { KubernetesModel, NatDump } from "../model";

/** The Service whose path is judged: its name, s-ip(s) and n-port(s). */
export interface ServiceFocus {
  namespace: string;
  name: string;
  /** spec.clusterIPs (s-ip); empty when unknown */
  clusterIPs: string[];
  /** every nodePort of the Service's ports (n-port) */
  nodePorts: number[];
}

/**
 * The focus from the Service the Kubernetes source read (its namespace, name, spec.clusterIP and
 * every port's nodePort); undefined when the Service was not read: the dumps are then kept whole,
 * since nothing says which rules are the Service's.
 */
export function serviceFocus(kube: KubernetesModel | undefined): ServiceFocus | undefined {
  const service = kube?.service;
  if (!service) return undefined;
  const clusterIPs = service.clusterIP && service.clusterIP !== "None" ? [service.clusterIP] : [];
  const nodePorts = service.ports.map((p) => p.nodePort).filter((n): n is number => n !== undefined);
  return { namespace: service.namespace, name: service.name, clusterIPs, nodePorts };
}

/** What the reduction did, for the report and for anyone comparing with the node's own output. */
export interface Reduction {
  /** "ns/name" of the focus */
  service: string;
  /** lines in the node's own output */
  totalLines: number;
  /** lines kept */
  keptLines: number;
}

const PER_SERVICE_CHAIN = /^KUBE-(?:SVC|SVL|EXT|XLB|FW|SEP)-/;
const COUNTERS = /^\[\d+:\d+\]\s*/;
/** kube-proxy's comments name a Service first: "ns/name", "ns/name:port ...", "... for ns/name:port ..." */
const SERVICE_COMMENT = /--comment\s+(?:"([^"]*)"|(\S+))/;
const NAMESPACED = /(?:^|\s)([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/([a-z0-9]([-a-z0-9.]*[a-z0-9])?)(?::\S*)?(?=\s|$)/;

function target(rule: string): string | undefined {
  const m = /\s-[jg]\s+(\S+)/.exec(rule);
  return m?.[1];
}

/** "ns/name" a kube-proxy comment is about, or undefined for a comment naming no Service. */
export function commentService(rule: string): string | undefined {
  const m = SERVICE_COMMENT.exec(rule);
  if (!m) return undefined;
  const text = (m[1] ?? m[2]) as string;
  const s = NAMESPACED.exec(text);
  return s ? `${s[1]}/${s[3]}` : undefined;
}

/** Whether a rule is the focus's by its match on s-ip or n-port (uncommented rules). */
function matchesFocus(rule: string, focus: ServiceFocus): boolean {
  for (const ip of focus.clusterIPs) if (new RegExp(`(?:^|\\s)-d ${ip.replace(/\./g, "\\.")}(?:/32)?(?:\\s|$)`).test(rule)) return true;
  for (const port of focus.nodePorts) if (new RegExp(`--dport ${port}(?:\\s|$)`).test(rule)) return true;
  return false;
}

/**
 * The focus's part of an iptables-save dump (see the file comment), or the dump unchanged when it is
 * not an iptables-save dump (kube-proxy's own nft table is kept whole: its verdict maps are not
 * split per Service here). Pure; O(lines of the dump).
 */
export function reduceDump(dump: NatDump, focus: ServiceFocus): NatDump {
  if (dump.backend === "nft-native" || dump.reduction) return dump;
  const text = dump.text;
  const lines = text.split("\n");
  const service = `${focus.namespace}/${focus.name}`;
  // Per table: rules by chain (line indexes), the per-Service chains' declarations and rules.
  type Table = { ownRules: Map<string, number[]>; roots: number[]; declarations: Map<string, number> };
  const keep = new Uint8Array(lines.length);
  let table: Table | undefined;
  const tables: Table[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    const c = line.charCodeAt(0);
    if (c === 42 /* * */) {
      table = { ownRules: new Map(), roots: [], declarations: new Map() };
      tables.push(table);
      keep[i] = 1;
      continue;
    }
    if (!table || (c !== 58 /* : */ && c !== 45 /* - */ && c !== 91) /* [ */) {
      // COMMIT, iptables-save's own "#" lines, blank lines
      keep[i] = 1;
      continue;
    }
    if (c === 58) {
      const chain = line.slice(1, line.indexOf(" ") < 0 ? undefined : line.indexOf(" "));
      if (PER_SERVICE_CHAIN.test(chain)) table.declarations.set(chain, i);
      else keep[i] = 1;
      continue;
    }
    const rule = line.replace(COUNTERS, "");
    const m = /^-A (\S+)/.exec(rule);
    if (!m) {
      keep[i] = 1;
      continue;
    }
    const chain = m[1] as string;
    if (PER_SERVICE_CHAIN.test(chain)) {
      let list = table.ownRules.get(chain);
      if (!list) table.ownRules.set(chain, (list = []));
      list.push(i);
      continue;
    }
    const named = commentService(rule);
    if (named !== undefined && named !== service) continue;
    const to = target(rule);
    if (named === undefined && to !== undefined && PER_SERVICE_CHAIN.test(to) && !matchesFocus(rule, focus)) continue;
    keep[i] = 1;
    table.roots.push(i);
  }
  // The per-Service chains reached from kept rules, whole, and what they reach in turn.
  for (const t of tables) {
    const reached = new Set<string>();
    const queue = t.roots.map((i) => target((lines[i] as string).replace(COUNTERS, ""))).filter((x): x is string => x !== undefined && PER_SERVICE_CHAIN.test(x));
    while (queue.length > 0) {
      const chain = queue.pop() as string;
      if (reached.has(chain)) continue;
      reached.add(chain);
      const d = t.declarations.get(chain);
      if (d !== undefined) keep[d] = 1;
      for (const i of t.ownRules.get(chain) ?? []) {
        keep[i] = 1;
        const to = target((lines[i] as string).replace(COUNTERS, ""));
        if (to !== undefined && PER_SERVICE_CHAIN.test(to) && !reached.has(to)) queue.push(to);
      }
    }
  }
  const kept: string[] = [];
  const lineNumbers: number[] = [];
  const original = dump.lineNumbers;
  for (let i = 0; i < lines.length; i++) {
    if (!keep[i]) continue;
    kept.push(lines[i] as string);
    lineNumbers.push(original ? (original[i] as number) : i + 1);
  }
  return {
    command: dump.command,
    backend: dump.backend,
    text: kept.join("\n"),
    lineNumbers,
    reduction: { service, totalLines: text.endsWith("\n") ? lines.length - 1 : lines.length, keptLines: kept.length },
  };
}
