// `iptables-save [-c] [-t nat]` (nft or legacy backend) -> chain graph of the nat table.
// Other tables are skipped; an unreadable line becomes a warning "line N: ..." and is left out.
import type { Chain, ChainGraph, Rule } from "./graph";
import { Interner, parseRuleTokens, tokenize } from "./iptables-rule";
import { scanRule } from "./iptables-scan";
import { finishIptablesGraph } from "./iptables-services";

const BUILTIN_CHAINS = new Set(["PREROUTING", "INPUT", "OUTPUT", "POSTROUTING", "FORWARD"]);
const COUNTERS = /^\[(\d+):(\d+)\]\s*/;

export function parseIptablesSave(text: string): ChainGraph {
  const chains = new Map<string, Chain>();
  const warnings: string[] = [];
  let table: string | undefined;
  let sawNat = false;
  let sawAnyTable = false;
  let lineNo = 0;
  const intern = new Interner();
  let start = 0;
  let last: Chain | undefined;
  const getChain = (name: string): Chain => {
    // iptables-save groups a chain's rules together: the previous chain is the usual answer
    if (last !== undefined && last.name === name) return last;
    let c = chains.get(name);
    if (!c) {
      c = { name, builtin: BUILTIN_CHAINS.has(name), rules: [] };
      chains.set(name, c);
    }
    last = c;
    return c;
  };

  while (start <= text.length) {
    let end = text.indexOf("\n", start);
    if (end < 0) end = text.length;
    lineNo++;
    let line = text.slice(start, end);
    start = end + 1;
    if (line.endsWith("\r")) line = line.slice(0, -1);
    const trimmed = line.trim();
    if (trimmed === "" || trimmed.startsWith("#")) continue;
    const first = trimmed[0];
    if (first === "*") {
      table = trimmed.slice(1).trim();
      sawAnyTable = true;
      if (table === "nat") sawNat = true;
      continue;
    }
    if (trimmed === "COMMIT") {
      table = undefined;
      continue;
    }
    if (table === undefined && !sawAnyTable) {
      // `iptables -t nat -S` (starts with -P/-N) or a grep of a dump: read the rules as nat
      table = "nat";
      sawNat = true;
      if (!trimmed.startsWith("-P ") && !trimmed.startsWith("-N ")) {
        warnings.push(`line ${lineNo}: rules before any "*table" line; read as table nat`);
      }
    }
    if (table !== "nat") {
      if (table === undefined) warnings.push(`line ${lineNo}: text outside a "*table ... COMMIT" block: ${clip(trimmed)}`);
      continue;
    }
    if (first === ":") {
      const m = /^:(\S+)\s+(\S+)(?:\s+\[(\d+):(\d+)\])?$/.exec(trimmed);
      if (!m) {
        warnings.push(`line ${lineNo}: unreadable chain line: ${clip(trimmed)}`);
        continue;
      }
      getChain(m[1]);
      continue;
    }
    if (first === "-" && (trimmed.startsWith("-N ") || trimmed.startsWith("-P "))) {
      // `iptables -S`: -N CHAIN declares a chain, -P CHAIN POLICY sets a hook chain's policy
      const name = trimmed.split(/\s+/)[1];
      if (name) getChain(name);
      continue;
    }
    let body = trimmed;
    let packets: number | undefined;
    let bytes: number | undefined;
    if (first === "[") {
      const m = COUNTERS.exec(body);
      if (!m) {
        warnings.push(`line ${lineNo}: unreadable counters: ${clip(trimmed)}`);
        continue;
      }
      packets = Number(m[1]);
      bytes = Number(m[2]);
      body = body.slice(m[0].length);
    }
    if (!body.startsWith("-A ")) {
      warnings.push(`line ${lineNo}: not a rule ("-A CHAIN ..."): ${clip(trimmed)}`);
      continue;
    }
    // fast path first (plain kube-proxy shapes), the general tokenizer for anything else
    const nameEnd = body.indexOf(" ", 3);
    const chainName = nameEnd < 0 ? body.slice(3) : body.slice(3, nameEnd);
    let parsed = nameEnd < 0 ? undefined : scanRule(body, nameEnd, intern);
    if (!parsed) {
      const tokens = tokenize(body);
      if (typeof tokens === "string" || tokens.length < 2) {
        warnings.push(`line ${lineNo}: ${typeof tokens === "string" ? tokens : "rule without chain"}: ${clip(trimmed)}`);
        continue;
      }
      parsed = parseRuleTokens(tokens, 2, intern);
    }
    if (parsed.error) {
      warnings.push(`line ${lineNo}: ${parsed.error}: ${clip(trimmed)}`);
      continue;
    }
    const chain = getChain(chainName);
    // one object shape for every rule (fields always present) keeps property access monomorphic
    const rule: Rule = { line: lineNo, chain: chain.name, text: body, packets, bytes, comment: parsed.comment, conds: parsed.conds, target: parsed.target };
    chain.rules.push(rule);
  }
  if (sawAnyTable && !sawNat) warnings.push("line 1: the dump has no nat table (*nat): save it with `iptables-save -t nat`");
  return finishIptablesGraph("iptables-save", chains, warnings);
}

export function clip(s: string): string {
  return s.length > 120 ? s.slice(0, 117) + "..." : s;
}
