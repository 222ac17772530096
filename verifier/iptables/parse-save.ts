// `iptables-save [-c] [-t nat]` (nft or legacy backend) -> chain graph of the nat table.
// Other tables are skipped; an unreadable line becomes a warning "line N: ..." and is left out.
import type { Chain, ChainGraph, Rule, Target } from "./graph";
import { type ParsedRule, Interner, parseRuleTokens, tokenize } from "./iptables-rule";
import { scanRule } from "./iptables-scan";
import { finishIptablesGraph, isCutChainName } from "./iptables-services";
import { ELISION } from "./paste";

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
  /** chains next to a "..." line: the paste left rules out there */
  const elided = new Set<string>();
  let afterElision = false;
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
    if (trimmed === ELISION) {
      if (last !== undefined) elided.add(last.name);
      afterElision = true;
      continue;
    }
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
      getChain(m[1]).declared = true;
      continue;
    }
    if (first === "-" && (trimmed.startsWith("-N ") || trimmed.startsWith("-P "))) {
      // `iptables -S`: -N CHAIN declares a chain, -P CHAIN POLICY sets a hook chain's policy
      const name = trimmed.split(/\s+/)[1];
      if (name) getChain(name).declared = true;
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
    let error: string | undefined;
    if (!parsed) {
      const tokens = tokenize(body);
      if (typeof tokens === "string" || tokens.length < 2) error = typeof tokens === "string" ? tokens : "rule without chain";
      else {
        parsed = parseRuleTokens(tokens, 2, intern);
        error = parsed.error;
      }
    }
    if (afterElision) {
      elided.add(chainName);
      afterElision = false;
    }
    if (error !== undefined || parsed === undefined) {
      // a rule that stops mid-word at the end of the paste (or of a block of it) is cut, not wrong
      if (chainName !== "" && (error === "unterminated quote" || endsBlock(text, start))) {
        const cut = readCut(body);
        warnings.push(`line ${lineNo}: the line is cut (${error ?? "unreadable"}); the connections it would take are unknown: ${clip(trimmed)}`);
        getChain(chainName).rules.push({ line: lineNo, chain: chainName, text: body, packets, bytes, comment: cut.comment, conds: cut.conds, target: { k: "cut" } });
      } else warnings.push(`line ${lineNo}: ${error ?? "unreadable rule"}: ${clip(trimmed)}`);
      continue;
    }
    let target: Target = parsed.target;
    if ((target.k === "jump" || target.k === "goto") && isCutChainName(target.chain)) {
      warnings.push(`line ${lineNo}: the line is cut (chain name ${target.chain} is shorter than kube-proxy's); the connections it would take are unknown: ${clip(trimmed)}`);
      target = { k: "cut", chain: target.chain };
    }
    const chain = getChain(chainName);
    // one object shape for every rule (fields always present) keeps property access monomorphic
    const rule: Rule = { line: lineNo, chain: chain.name, text: body, packets, bytes, comment: parsed.comment, conds: parsed.conds, target };
    chain.rules.push(rule);
  }
  for (const name of elided) {
    const c = chains.get(name);
    if (c && !c.builtin) c.declared = false;
  }
  if (sawAnyTable && !sawNat) warnings.push("line 1: the dump has no nat table (*nat): save it with `iptables-save -t nat`");
  return finishIptablesGraph("iptables-save", chains, warnings);
}

/** Only blank lines or a "..." follow position `from`: the line before ends the paste or a block of it. */
function endsBlock(text: string, from: number): boolean {
  const nl = text.indexOf("\n", from);
  const next = (nl < 0 ? text.slice(from) : text.slice(from, nl)).trim();
  return from >= text.length || next === "" || next === ELISION;
}

/** The conditions a cut rule shows before the cut: drop words from its end until the rest reads. */
function readCut(body: string): ParsedRule {
  const words = body.split(/\s+/);
  for (let k = words.length - 1; k >= 2; k--) {
    const tokens = tokenize(words.slice(0, k).join(" "));
    if (typeof tokens === "string") continue;
    const parsed = parseRuleTokens(tokens, 2);
    if (!parsed.error) return parsed;
  }
  return { conds: [], target: { k: "continue" } };
}

export function clip(s: string): string {
  return s.length > 120 ? s.slice(0, 117) + "..." : s;
}
