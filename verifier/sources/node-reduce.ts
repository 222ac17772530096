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

/** kube-proxy's per-Service chain prefixes after "KUBE-" (KUBE-FW- is matched on its own). */
const PER_SERVICE = new Set(["SVC-", "SVL-", "EXT-", "XLB-", "SEP-"]);
const isPerService = (chain: string) => chain.length > 9 && chain.startsWith("KUBE-") && (PER_SERVICE.has(chain.slice(5, 9)) || chain.startsWith("KUBE-FW-"));
/** kube-proxy's comments name a Service first: "ns/name", "ns/name:port ...", "... for ns/name:port ..." */
const SERVICE_COMMENT = /--comment\s+(?:"([^"]*)"|(\S+))/;
const NAMESPACED = /(?:^|\s)([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/([a-z0-9]([-a-z0-9.]*[a-z0-9])?)(?::\S*)?(?=\s|$)/;

/** The rule of a line ("-A ..."), past iptables-save -c's "[packets:bytes] " prefix; undefined for other lines. */
function ruleOf(line: string): string | undefined {
  let rule = line;
  if (line.charCodeAt(0) === 91 /* [ */) {
    const end = line.indexOf("] ");
    if (end < 0) return undefined;
    rule = line.slice(end + 2);
  }
  return rule.startsWith("-A ") ? rule : undefined;
}

const chainOf = (rule: string) => {
  const end = rule.indexOf(" ", 3);
  return end < 0 ? rule.slice(3) : rule.slice(3, end);
};

function target(rule: string): string | undefined {
  let at = rule.indexOf(" -j ");
  if (at < 0) at = rule.indexOf(" -g ");
  if (at < 0) return undefined;
  const start = at + 4;
  const end = rule.indexOf(" ", start);
  return end < 0 ? rule.slice(start) : rule.slice(start, end);
}

/** "ns/name" a kube-proxy comment is about, or undefined for a comment naming no Service. */
export function commentService(rule: string): string | undefined {
  if (!rule.includes("--comment")) return undefined;
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
 * split per Service here). Pure. One pass picks the rules of the shared chains and notes where each
 * per-Service chain's rules are; then only the chains the kept rules reach are visited. Only line
 * indexes are stored, so the cost is one scan of the lines.
 */
export function reduceDump(dump: NatDump, focus: ServiceFocus): NatDump {
  if (dump.backend === "nft-native" || dump.reduction) return dump;
  const text = dump.text;
  const lines = text.split("\n");
  const service = `${focus.namespace}/${focus.name}`;
  const keep = new Uint8Array(lines.length);
  // Per table: each per-Service chain's declaration and the line ranges of its rules (iptables-save
  // writes a chain's rules together: one range, but a hand-joined dump may have more).
  type Table = { declared: Map<string, number>; ranges: Map<string, number[]> };
  let table: Table = { declared: new Map(), ranges: new Map() };
  const queue: [Table, string][] = [];
  const reach = (t: Table, to: string | undefined) => {
    if (to !== undefined && isPerService(to)) queue.push([t, to]);
  };
  let block: string | undefined;
  let blockStart = 0;
  const closeBlock = (end: number) => {
    if (block === undefined) return;
    const list = table.ranges.get(block);
    if (list) list.push(blockStart, end);
    else table.ranges.set(block, [blockStart, end]);
    block = undefined;
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    const c = line.charCodeAt(0);
    if (c === 42 /* * */) {
      closeBlock(i);
      table = { declared: new Map(), ranges: new Map() };
    }
    if (c === 58 /* : */) {
      const end = line.indexOf(" ");
      const chain = end < 0 ? line.slice(1) : line.slice(1, end);
      if (isPerService(chain)) table.declared.set(chain, i);
      else keep[i] = 1;
      continue;
    }
    const rule = c === 45 /* - */ || c === 91 /* [ */ ? ruleOf(line) : undefined;
    if (rule === undefined) {
      // "*table", COMMIT, iptables-save's own "#" lines, blank lines, -P/-N lines
      closeBlock(i);
      keep[i] = 1;
      continue;
    }
    const chain = chainOf(rule);
    if (chain !== block) {
      closeBlock(i);
      if (isPerService(chain)) {
        block = chain;
        blockStart = i;
      }
    }
    if (block !== undefined) continue;
    const named = commentService(rule);
    if (named !== undefined && named !== service) continue;
    const to = target(rule);
    if (named === undefined && to !== undefined && isPerService(to) && !matchesFocus(rule, focus)) continue;
    keep[i] = 1;
    reach(table, to);
  }
  closeBlock(lines.length);
  // The per-Service chains reached from kept rules, whole, and what they reach in turn.
  const seen = new Map<Table, Set<string>>();
  while (queue.length > 0) {
    const [t, chain] = queue.pop() as [Table, string];
    let done = seen.get(t);
    if (!done) seen.set(t, (done = new Set()));
    if (done.has(chain)) continue;
    done.add(chain);
    const d = t.declared.get(chain);
    if (d !== undefined) keep[d] = 1;
    const ranges = t.ranges.get(chain) ?? [];
    for (let r = 0; r < ranges.length; r += 2) {
      for (let i = ranges[r] as number; i < (ranges[r + 1] as number); i++) {
        keep[i] = 1;
        const rule = ruleOf(lines[i] as string);
        if (rule !== undefined) reach(t, target(rule));
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
