// What a node's filter table does with a packet it must forward after kube-proxy DNATed it to a
// pod: the LB's connection to n-ip:n-port, rewritten to p-ip:p-port, carrying kube-proxy's
// masquerade mark 0x4000 when externalTrafficPolicy is Cluster (KUBE-EXT -> KUBE-MARK-MASQ). Read
// from `iptables-save`'s *filter section. Conditions the dump cannot decide for such a packet
// (input/output interface, source address, unknown matches) make a rule "maybe": a DROP then stays
// a possibility, never a fact (verdict "unknown").
import { tokenize } from "./iptables-rule";
import { cidrCovers } from "../address";

export interface ForwardPacket {
  /** where the DNATed packet goes: the pods' p-ip */
  destinations: string[];
  /** their p-port */
  ports: number[];
  /** kube-proxy's masquerade mark 0x4000 is set (externalTrafficPolicy Cluster) */
  marked: boolean;
}

export interface FilterRuleRef {
  /** 1-based line in the filter text given */
  line: number;
  chain: string;
  text: string;
}

export interface ForwardVerdict {
  verdict: "accept" | "drop" | "unknown";
  /** the FORWARD chain's policy (ACCEPT when the table does not exist) */
  policy: string;
  /** the rule that decided (absent: the policy decided) */
  decidedBy?: FilterRuleRef;
  /** rules that may match but could not be decided from the dump */
  undecided: FilterRuleRef[];
  /** whether FORWARD jumps to kube-proxy's KUBE-FORWARD */
  kubeForwardJump: boolean;
}

type Match = "yes" | "no" | "maybe";

interface Rule extends FilterRuleRef {
  tokens: string[];
}

function parse(filter: string): { policies: Map<string, string>; chains: Map<string, Rule[]> } {
  const policies = new Map<string, string>();
  const chains = new Map<string, Rule[]>();
  filter.split("\n").forEach((raw, i) => {
    const line = raw.trim();
    const decl = /^:(\S+)\s+(\S+)/.exec(line);
    if (decl) {
      policies.set(decl[1] as string, decl[2] as string);
      return;
    }
    if (!line.startsWith("-A ")) return;
    const tokens = tokenize(line);
    if (typeof tokens === "string" || tokens.length < 2) return;
    const chain = tokens[1] as string;
    if (!chains.has(chain)) chains.set(chain, []);
    chains.get(chain)!.push({ line: i + 1, chain, text: line, tokens: tokens.slice(2) });
  });
  return { policies, chains };
}

const and = (a: Match, b: Match): Match => (a === "no" || b === "no" ? "no" : a === "maybe" || b === "maybe" ? "maybe" : "yes");
const not = (m: Match): Match => (m === "yes" ? "no" : m === "no" ? "yes" : "maybe");

function ruleMatch(tokens: string[], p: ForwardPacket): { match: Match; target?: string; goto: boolean } {
  let match: Match = "yes";
  let target: string | undefined;
  let goto = false;
  for (let i = 0; i < tokens.length; i++) {
    let neg = false;
    if (tokens[i] === "!") {
      neg = true;
      i++;
    }
    const opt = tokens[i] as string;
    const value = tokens[i + 1];
    const take = (m: Match) => {
      match = and(match, neg ? not(m) : m);
      i++;
    };
    switch (opt) {
      case "-m":
      case "--comment":
      case "--mode":
      case "--probability":
        i++;
        break;
      case "-j":
      case "-g":
        target = value;
        goto = opt === "-g";
        i = tokens.length; // target options follow
        break;
      case "-p":
        take(value === "tcp" || value === "6" || value === "all" ? "yes" : "no");
        break;
      case "--ctstate":
      case "--state":
        take((value ?? "").split(",").includes("NEW") ? "yes" : "no");
        break;
      case "--mark": {
        const [v, m] = (value ?? "").split("/").map((x) => Number(x));
        const mask = Number.isFinite(m) ? (m as number) : 0xffffffff;
        const packetMark = p.marked ? 0x4000 : 0;
        take(Number.isFinite(v) ? ((packetMark & mask) === ((v as number) & mask) ? "yes" : "no") : "maybe");
        break;
      }
      case "-d":
      case "--destination": {
        const inside = p.destinations.map((d) => cidrCovers(value ?? "", `${d}/32`));
        take(inside.length > 0 && inside.every(Boolean) ? "yes" : inside.every((x) => !x) ? "no" : "maybe");
        break;
      }
      case "--dport":
      case "--destination-port":
        take(p.ports.length > 0 && p.ports.every((x) => String(x) === value) ? "yes" : p.ports.every((x) => String(x) !== value) ? "no" : "maybe");
        break;
      // A forwarded packet is neither from nor to a local address.
      case "--dst-type":
      case "--src-type":
        take(value === "LOCAL" ? "no" : "maybe");
        break;
      case "-s":
      case "--source":
        take(value === "0.0.0.0/0" ? "yes" : "maybe");
        break;
      default:
        // -i, -o, --sport, physdev, set, ... : the dump alone cannot tell
        if (opt.startsWith("-")) take("maybe");
    }
  }
  return { match, target, goto };
}

const TERMINAL = new Set(["ACCEPT", "DROP", "REJECT"]);

/**
 * The FORWARD verdict for the DNATed packet. `filter` is an iptables-save *filter section ("" when
 * the node has no filter table: nothing is filtered, accept). Unknown targets (LOG, MARK, ...) go on.
 */
export function forwardVerdict(filter: string, packet: ForwardPacket): ForwardVerdict {
  const { policies, chains } = parse(filter);
  const policy = policies.get("FORWARD") ?? "ACCEPT";
  const undecided: FilterRuleRef[] = [];
  const kubeForwardJump = (chains.get("FORWARD") ?? []).some((r) => /\s-j\s+KUBE-FORWARD\b/.test(` ${r.tokens.join(" ")}`));

  // "return" when the chain ran out (back to the caller, or the policy for FORWARD).
  const walk = (chain: string, depth: number): { end: "accept" | "drop" | "return"; by?: FilterRuleRef } => {
    if (depth > 16) return { end: "return" };
    for (const rule of chains.get(chain) ?? []) {
      const { match, target, goto } = ruleMatch(rule.tokens, packet);
      if (match === "no" || !target) continue;
      const ref = { line: rule.line, chain: rule.chain, text: rule.text };
      if (match === "maybe") {
        if (TERMINAL.has(target) || chains.has(target)) undecided.push(ref);
        continue;
      }
      if (target === "ACCEPT") return { end: "accept", by: ref };
      if (target === "DROP" || target === "REJECT") return { end: "drop", by: ref };
      if (target === "RETURN") return { end: "return" };
      if (chains.has(target) || policies.has(target)) {
        const inner = walk(target, depth + 1);
        if (inner.end !== "return") return inner;
        if (goto) return { end: "return" };
      }
    }
    return { end: "return" };
  };
  const result = walk("FORWARD", 0);
  const end = result.end === "return" ? (policy === "DROP" || policy === "REJECT" ? "drop" : "accept") : result.end;
  // A rule we could not decide may have accepted (or dropped) the packet earlier.
  const verdict = undecided.length > 0 ? "unknown" : end;
  return { verdict, policy, ...(result.by ? { decidedBy: result.by } : {}), undecided, kubeForwardJump };
}
