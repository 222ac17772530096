// `iptables -t nat -L` in its variants (-n or not, -v or not, -x, --line-numbers; nft or legacy
// backend) -> chain graph. The list format prints matches in words after the columns, e.g.
// `/* ns/svc:p cluster IP */ tcp dpt:80`, `statistic mode random probability 0.50000000000`,
// `ADDRTYPE match dst-type LOCAL`, `to:10.244.1.3:8080`, `MARK or 0x4000`.
import type { Chain, ChainGraph, Cond, Rule } from "./graph";
import { parseCidr, parseNumber, parsePortRanges } from "./graph";
import { Interner, targetFromName } from "./iptables-rule";
import { finishIptablesGraph, isCutChainName } from "./iptables-services";
import { ELISION } from "./paste";
import { clip, readSaveChains } from "./parse-save";

const CHAIN_LINE = /^Chain (\S+) \((policy (\S+)(?: (\S+) packets, (\S+) bytes)?|(\d+) references?)\)/;

interface Columns {
  lineNumbers: boolean;
  verbose: boolean;
}

export function parseIptablesList(text: string): ChainGraph {
  const chains = new Map<string, Chain>();
  const warnings: string[] = [];
  const lines = text.split("\n");
  let chain: Chain | undefined;
  let columns: Columns | undefined;
  const pending: { rule: Rule; targetName: string; isGoto: boolean; words: ListWords }[] = [];
  const intern = new Interner();
  const elided = new Set<string>();
  const headless: Chain = { name: HEADLESS, builtin: false, rules: [] };
  /** the `-A CHAIN ...` lines among the listings, at their line index (others empty) */
  const savedLines: string[] = new Array<string>(lines.length).fill("");

  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    let line = lines[i];
    if (line.endsWith("\r")) line = line.slice(0, -1);
    if (line.trim() === "") continue;
    if (line.trim() === ELISION) {
      if (chain) elided.add(chain.name);
      continue;
    }
    if (SAVE_LINE.test(line)) {
      // notes that quote a chain's saved "-A" lines next to its listing: read in their own format below
      savedLines[i] = line;
      continue;
    }
    const chainMatch = line.startsWith("Chain ") ? CHAIN_LINE.exec(line) : null;
    if (chainMatch) {
      const name = chainMatch[1];
      chain = chains.get(name) ?? { name, builtin: chainMatch[3] !== undefined, rules: [] };
      chain.declared = true;
      chains.set(name, chain);
      columns = undefined;
      continue;
    }
    if (!chain) {
      // a listing pasted without its "Chain X (...)" line: its column header or rules come first
      const words = line.trim().split(/\s+/);
      if ((words.includes("target") && words.includes("prot")) || guessColumns(words) !== undefined) {
        chain = headless;
        chains.set(headless.name, headless);
      } else {
        warnings.push(`line ${lineNo}: skipped: text before the first "Chain" line: ${clip(line.trim())}`);
        continue;
      }
    }
    if (!columns) {
      const words = line.trim().split(/\s+/);
      // the header names the columns this chain's rules use
      if (words.includes("target") && words.includes("prot")) {
        columns = { lineNumbers: words[0] === "num", verbose: words.includes("pkts") };
        continue;
      }
      if (chain !== headless) warnings.push(`line ${lineNo}: expected the column header ("target prot opt ...") of chain ${chain.name}`);
      columns = guessColumns(words) ?? { lineNumbers: false, verbose: false };
    }
    const parsed = parseListRule(line, columns, intern);
    if (typeof parsed === "string" && isProse(line)) {
      // a sentence or list item between two listings of a note, not a cut rule
      warnings.push(`line ${lineNo}: skipped: not part of a dump: ${clip(line.trim())}`);
      continue;
    }
    if (typeof parsed === "string") {
      if (endsBlock(lines, i)) {
        warnings.push(`line ${lineNo}: the line is cut (${parsed}); the connections it would take are unknown: ${clip(line.trim())}`);
        chain.rules.push({ line: lineNo, chain: chain.name, text: line.trim(), conds: [], target: { k: "cut" } });
      } else warnings.push(`line ${lineNo}: ${parsed}: ${clip(line.trim())}`);
      continue;
    }
    const rule: Rule = { line: lineNo, chain: chain.name, text: line.trim(), packets: parsed.packets, bytes: parsed.bytes, comment: parsed.words.comment, conds: parsed.conds, target: CONTINUE };
    chain.rules.push(rule);
    if (parsed.target !== "") pending.push({ rule, targetName: parsed.target, isGoto: parsed.words.goto, words: parsed.words });
  }

  if (savedLines.some((l) => l !== "")) mergeSavedLines(savedLines, chains, pending, warnings);
  // targets are resolved once every chain is known: a name that is a chain is a jump
  for (const p of pending) {
    if (isCutChainName(p.targetName)) {
      warnings.push(`line ${p.rule.line}: the line is cut (chain name ${p.targetName} is shorter than kube-proxy's); the connections it would take are unknown: ${clip(p.rule.text)}`);
      p.rule.target = { k: "cut", chain: p.targetName };
      continue;
    }
    const t = chains.has(p.targetName)
      ? p.isGoto
        ? ({ k: "goto", chain: p.targetName } as const)
        : ({ k: "jump", chain: p.targetName } as const)
      : targetFromName(p.targetName, p.isGoto, (o) => p.words.targetOpts.get(o));
    if (typeof t === "string") {
      warnings.push(`line ${p.rule.line}: ${t}: ${clip(p.rule.text)}`);
      const list = chains.get(p.rule.chain)!.rules;
      list.splice(list.indexOf(p.rule), 1);
      continue;
    }
    p.rule.target = t;
  }
  for (const name of elided) {
    const c = chains.get(name);
    if (c && !c.builtin) c.declared = false;
  }
  if (chains.has(HEADLESS)) nameHeadless(chains, headless, warnings);
  return finishIptablesGraph("iptables-list", chains, warnings);
}

const SAVE_LINE = /^\s*(?:\[\d+:\d+\]\s*)?-A \S+/;

/**
 * A line no listing prints: a numbered or bulleted list item, a heading, or a sentence. A listing
 * row starts with its counters, line number, target or protocol; one cut short still does.
 */
function isProse(line: string): boolean {
  const t = line.trim();
  if (/^(?:\d+[.)]|[-*+]|#+)\s/.test(t)) return true;
  const first = t.split(/\s+/)[0];
  return !/^(?:\d+[KMGT]?|[A-Z][A-Z0-9_-]*|all|tcp|udp|sctp|icmp|!?\d+)$/.test(first);
}

/**
 * The `-A` lines a note quotes beside the listings. A chain shown both ways is read from its `-A`
 * lines (they hold every option; the listing abbreviates), with a warning when the two disagree
 * on the number of rules; a chain shown only as `-A` lines is read from them, as not shown whole.
 */
function mergeSavedLines(savedLines: string[], chains: Map<string, Chain>, pending: { rule: Rule }[], warnings: string[]): void {
  const saved = readSaveChains(savedLines.join("\n"));
  for (const w of saved.warnings) if (!w.includes('rules without a "*nat" line')) warnings.push(w);
  for (const [name, sc] of saved.chains) {
    if (sc.rules.length === 0) continue;
    const listed = chains.get(name);
    if (listed && listed.rules.length > 0) {
      if (listed.rules.length !== sc.rules.length) {
        warnings.push(`line ${sc.rules[0].line}: chain ${name} has ${listed.rules.length} rules in its listing and ${sc.rules.length} as -A lines; read from the -A lines`);
      }
      // the listing's rules leave; their targets need no resolving
      const gone = new Set(listed.rules);
      for (let k = pending.length - 1; k >= 0; k--) if (gone.has(pending[k].rule)) pending.splice(k, 1);
      listed.rules = sc.rules;
    } else if (listed) {
      listed.rules = sc.rules;
    } else {
      sc.declared = false;
      chains.set(name, sc);
    }
  }
}

/** The chain of rules listed without their "Chain X (...)" line, until the name is guessed. */
const HEADLESS = "(no Chain line)";

/**
 * Rules listed without their chain's name: they are KUBE-SERVICES when they send clusterIPs to
 * service chains, KUBE-NODEPORTS when they send bare ports there; otherwise they cannot be placed.
 */
function nameHeadless(chains: Map<string, Chain>, headless: Chain, warnings: string[]): void {
  chains.delete(HEADLESS);
  const first = headless.rules[0]?.line ?? 1;
  const toService = headless.rules.filter((r) => (r.target.k === "jump" || r.target.k === "goto") && /^KUBE-(?:SVC|EXT|FW|XLB|SVL)-/.test(r.target.chain));
  const withDst = toService.filter((r) => r.conds.some((c) => c.k === "dst" && !c.neg));
  const name = toService.length === 0 ? undefined : withDst.length > 0 ? "KUBE-SERVICES" : "KUBE-NODEPORTS";
  if (name === undefined || chains.has(name)) {
    warnings.push(`line ${first}: skipped: ${headless.rules.length} listed rules have no "Chain X (...)" line and their chain cannot be told; list with \`iptables -t nat -L CHAIN\``);
    return;
  }
  warnings.push(`line ${first}: rules listed without their "Chain X (...)" line; read as chain ${name} (guessed: they send ${withDst.length > 0 ? "service addresses" : "bare ports"} to service chains) and as possibly incomplete`);
  const chain: Chain = { name, builtin: false, rules: headless.rules.map((r) => ({ ...r, chain: name })) };
  chains.set(name, chain);
}

/** Only blank lines or a "..." follow line index `i`: the line ends the paste or a block of it. */
function endsBlock(lines: string[], i: number): boolean {
  const next = lines[i + 1]?.trim();
  return next === undefined || next === "" || next === ELISION;
}

/** The columns of a rule line read without its header; undefined when the line has no prot/opt columns. */
function guessColumns(words: string[]): Columns | undefined {
  const lineNumbers = /^\d+$/.test(words[0] ?? "") && !/^\d+[KMGT]?$/.test(words[1] ?? "x");
  const verbose = /^\d+[KMGT]?$/.test(words[lineNumbers ? 1 : 0] ?? "") && /^\d+[KMGT]?$/.test(words[lineNumbers ? 2 : 1] ?? "");
  const at = (lineNumbers ? 1 : 0) + (verbose ? 2 : 0);
  // target (may be empty) prot opt
  if (OPT_COLUMN.test(words[at + 2] ?? "") || OPT_COLUMN.test(words[at + 1] ?? "")) return { lineNumbers, verbose };
  return undefined;
}

const OPT_COLUMN = /^(--|-f|!f)$/;

interface ParsedListRule {
  packets?: number;
  bytes?: number;
  target: string;
  conds: Cond[];
  words: ListWords;
}

/** Split the fixed columns by position (target may be empty), then read the trailing words. */
const CONTINUE = { k: "continue" } as const;

function parseListRule(line: string, columns: Columns, intern: Interner): ParsedListRule | string {
  const tokens: { text: string; end: number }[] = [];
  const re = /\S+/g;
  for (let m = re.exec(line); m; m = re.exec(line)) tokens.push({ text: m[0], end: m.index + m[0].length });
  let i = columns.lineNumbers ? 1 : 0;
  let packets: number | undefined;
  let bytes: number | undefined;
  if (columns.verbose) {
    packets = counter(tokens[i]?.text);
    bytes = counter(tokens[i + 1]?.text);
    if (packets === undefined || bytes === undefined) return "unreadable packet/byte counters";
    i += 2;
  }
  let target = "";
  if (tokens[i + 2] && OPT_COLUMN.test(tokens[i + 2].text)) {
    target = tokens[i].text;
    i++;
  } else if (!(tokens[i + 1] && OPT_COLUMN.test(tokens[i + 1].text))) {
    return "cannot find the prot/opt columns";
  }
  const conds: Cond[] = [];
  const prot = tokens[i].text;
  const opt = tokens[i + 1].text;
  i += 2;
  const protNeg = prot.startsWith("!");
  const protName = protocolName(protNeg ? prot.slice(1) : prot);
  if (protName !== "all") conds.push(intern.cond(protNeg ? "p!" : "p", protName, () => ({ k: "proto", protos: [protName], neg: protNeg }))!);
  if (opt !== "--") conds.push({ k: "unknown", text: `fragment ${opt}` });
  if (columns.verbose) {
    const inIf = tokens[i]?.text;
    const outIf = tokens[i + 1]?.text;
    if (inIf === undefined || outIf === undefined) return "missing in/out columns";
    if (inIf !== "*" && inIf !== "any") conds.push({ k: "inIface", name: inIf.replace(/^!/, ""), neg: inIf.startsWith("!") });
    if (outIf !== "*" && outIf !== "any") conds.push({ k: "unknown", text: `out ${outIf}` });
    i += 2;
  }
  const source = tokens[i]?.text;
  const destination = tokens[i + 1]?.text;
  if (source === undefined || destination === undefined) return "missing source/destination columns";
  for (const [k, value] of [["src", source], ["dst", destination]] as const) {
    const neg = value.startsWith("!");
    const addr = neg ? value.slice(1) : value;
    if (addr === "0.0.0.0/0" || addr === "anywhere" || addr === "::/0") continue;
    const c = intern.cond(neg ? k + "!" : k, addr, () => {
      const cidr = parseCidr(addr);
      return cidr ? { k, cidrs: [cidr], neg } : undefined;
    });
    conds.push(c ?? { k: "unknown", text: `${k} ${value}` });
  }
  const rest = line.slice(tokens[i + 1].end);
  const words = readWords(rest, intern);
  if (typeof words === "string") return words;
  conds.push(...words.conds);
  return { packets, bytes, target, conds, words };
}

function protocolName(p: string): string {
  const lower = p.toLowerCase();
  return lower === "0" ? "all" : lower === "6" ? "tcp" : lower === "17" ? "udp" : lower === "132" ? "sctp" : lower;
}

function counter(text: string | undefined): number | undefined {
  const m = /^(\d+)([KMGT]?)$/.exec(text ?? "");
  if (!m) return undefined;
  const mult = { "": 1, K: 1e3, M: 1e6, G: 1e9, T: 1e12 }[m[2] as "" | "K" | "M" | "G" | "T"];
  return Number(m[1]) * mult;
}

/** `iptables -L` without -n prints ports by their /etc/services names. */
const SERVICE_PORTS: Record<string, number> = {
  http: 80, https: 443, domain: 53, "http-alt": 8080, webcache: 8080, ssh: 22, ntp: 123, smtp: 25,
  "kubernetes": 6443, mysql: 3306, postgresql: 5432, redis: 6379, "https-alt": 8443, "pcsync-https": 8443,
};

interface ListWords {
  comment?: string;
  goto: boolean;
  conds: Cond[];
  targetOpts: Map<string, string>;
}

/** The words after the columns: match descriptions, then target options. */
function readWords(rest: string, intern: Interner): ListWords | string {
  const out: ListWords = { goto: false, conds: [], targetOpts: new Map() };
  let text = rest;
  const c = /\/\* (.*?) \*\//.exec(text);
  if (c) {
    out.comment = c[1];
    text = text.slice(0, c.index) + " " + text.slice(c.index + c[0].length);
  }
  const w = text.trim() === "" ? [] : text.trim().split(/\s+/);
  const unknown: string[] = [];
  for (let i = 0; i < w.length; i++) {
    const word = w[i];
    const next = w[i + 1];
    if (word === "tcp" || word === "udp" || word === "sctp") continue; // the module name; its options follow
    let m: RegExpExecArray | null;
    if ((m = /^(!)?dpts?:(\S+)$/.exec(word)) || (word === "!" && next && (m = /^()dpts?:(\S+)$/.exec(next)) && ++i)) {
      const neg = word === "!" || m[1] === "!";
      const spec = m[2];
      const c = intern.cond(neg ? "d!" : "d", spec, () => {
        const ranges = parsePortRanges(spec.replace(/[a-z][a-z0-9-]*/g, (name) => String(SERVICE_PORTS[name] ?? name)));
        return ranges ? { k: "dport", ranges, neg } : undefined;
      });
      if (!c) return `port "${spec}" is a service name this reader does not know; list with -n`;
      out.conds.push(c);
    } else if (word === "multiport" && (next === "dports" || next === "ports" || next === "sports")) {
      const ranges = parsePortRanges(w[i + 2] ?? "");
      if (!ranges) return `bad multiport "${w[i + 2] ?? ""}"`;
      if (next === "dports") out.conds.push({ k: "dport", ranges, neg: false });
      else out.conds.push({ k: "unknown", text: `multiport ${next} ${w[i + 2]}` });
      i += 2;
    } else if (word === "statistic" && next === "mode") {
      if (w[i + 2] === "random" && w[i + 3] === "probability") {
        const raw = w[i + 4] ?? "";
        const p = Number(raw);
        if (raw === "" || !Number.isFinite(p) || p < 0 || p > 1) return `bad probability "${raw}"`;
        out.conds.push(intern.cond("prob", raw, () => ({ k: "probability", p }))!);
        i += 4;
      } else if (w[i + 2] === "nth" && w[i + 3] === "every") {
        const every = Number(w[i + 4]);
        if (!Number.isInteger(every) || every < 1) return `bad nth "${w[i + 4] ?? ""}"`;
        out.conds.push({ k: "probability", p: 1 / every });
        i += 4;
        if (w[i + 1] === "packet") i += 2;
      } else return "unreadable statistic match";
    } else if (word === "ADDRTYPE" && next === "match") {
      i++;
      while (w[i + 1] && /^(dst-type|src-type|limit-in|limit-out)$/.test(w[i + 1])) {
        const kind = w[i + 1];
        const val = w[i + 2] ?? "";
        i += kind.startsWith("limit") ? 1 : 2;
        if (kind.startsWith("limit")) continue;
        const neg = val.startsWith("!");
        if (val.replace(/^!/, "") === "LOCAL") out.conds.push({ k: kind === "dst-type" ? "dstLocal" : "srcLocal", neg });
        else out.conds.push({ k: "unknown", text: `${kind} ${val}` });
      }
    } else if (word === "recent:") {
      const action = next ?? "";
      if (action === "CHECK" || action === "UPDATE") out.conds.push({ k: "never", why: "session affinity (recent: CHECK) does not match a new client" });
      i++;
      // the options that follow (seconds:, reap, hit_count:, name:, side:, mask:) do not change that
      while (w[i + 1] && /^(seconds:|reap|hit_count:|name:|side:|mask:|ttl-match|rsource|rdest)$/.test(w[i + 1])) i += w[i + 1].endsWith(":") ? 2 : 1;
    } else if (word === "mark" && next === "match") {
      let j = i + 2;
      const neg = w[j] === "!";
      if (neg) j++;
      const [v, mk] = (w[j] ?? "").split("/");
      const value = parseNumber(v);
      const mask = mk !== undefined ? parseNumber(mk) : 0xffffffff;
      if (value === undefined || mask === undefined) return `bad mark match "${w[j] ?? ""}"`;
      out.conds.push({ k: "mark", value, mask, neg });
      i = j;
    } else if (word === "ctstate" || word === "state" || (word === "!" && (next === "ctstate" || next === "state"))) {
      const neg = word === "!";
      if (neg) i++;
      const states = (w[i + 1] ?? "").split(",");
      if (states.includes("NEW") === neg) out.conds.push({ k: "never", why: `ctstate ${w[i + 1]} does not match a new connection` });
      i++;
    } else if (word === "nfacct-name") {
      i++; // counts only
    } else if ((m = /^to:(\S+)$/.exec(word))) {
      out.targetOpts.set("to-destination", m[1]);
    } else if (word === "MARK" && next && /^(or|xor|and|set|xset)$/.test(next)) {
      const key = { or: "or-mark", xor: "xor-mark", and: "and-mark", set: "set-xmark", xset: "set-xmark" }[next as "or"]!;
      out.targetOpts.set(key, w[i + 2] ?? "");
      i += 2;
    } else if (word === "[goto]") {
      out.goto = true;
    } else if (/^(random-fully|random|persistent|masq|ports:|redir|reject-with|icmp-port-unreachable|icmp-\S+|tcp-reset)$/.test(word)) {
      // target options that do not change where the connection goes
    } else {
      unknown.push(word);
    }
  }
  if (unknown.length > 0) out.conds.push({ k: "unknown", text: unknown.join(" ") });
  return out;
}
