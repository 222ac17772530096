// One iptables rule in `iptables-save` / `iptables-restore` syntax ("-A CHAIN -m tcp -p tcp ...")
// turned into conditions and a target. The `iptables -L` parser reuses the interpretation of
// targets (`targetFromName`) so both formats mean the same thing by the same words.
import { type Cond, type Target, parseCidr, parseHostPort, parseNumber, parsePortRanges } from "./graph";

/** Split a rule line like a shell would: whitespace-separated, "double quotes" with \" escapes. */
export function tokenize(line: string): string[] | string {
  const out: string[] = [];
  TOKEN.lastIndex = 0;
  let m: RegExpExecArray | null;
  let consumed = 0;
  while ((m = TOKEN.exec(line)) !== null) {
    // only blanks may sit between tokens: anything skipped is a stray quote
    if (m.index > consumed && line.slice(consumed, m.index).trim() !== "") return "unterminated quote";
    consumed = TOKEN.lastIndex;
    if (m[1] !== undefined) out.push(m[1].indexOf("\\") >= 0 ? m[1].replace(/\\(.)/g, "$1") : m[1]);
    else out.push(m[2]);
  }
  if (line.slice(consumed).trim() !== "") return "unterminated quote";
  return out;
}
const TOKEN = /"((?:[^"\\]|\\.)*)"|([^\s"]+)/g;

export interface ParsedRule {
  conds: Cond[];
  target: Target;
  comment?: string;
  /** problems that make the rule unreadable */
  error?: string;
}

/** Options that never take a value (so the next token is not swallowed). */
export const FLAG_OPTIONS = new Set(["rcheck", "update", "set", "remove", "reap", "rsource", "rdest", "random-fully", "random", "persistent", "syn", "rttl"]);

/**
 * Conditions and targets are immutable, and a big dump repeats most of them (tcp, --dport 80,
 * KUBE-MARK-MASQ, probability 0.5...): one shared object per distinct value keeps a 100k-rule
 * graph small and the garbage collector idle. One interner per dump.
 */
export class Interner {
  private readonly conds = new Map<string, Map<string, Cond>>();
  private readonly targets = new Map<string, Target>();
  /** The shared condition of this kind (e.g. "dst!") for this value text; `make` builds it once. */
  cond(kind: string, value: string, make: () => Cond | undefined): Cond | undefined {
    let table = this.conds.get(kind);
    if (table === undefined) this.conds.set(kind, (table = new Map()));
    let v = table.get(value);
    if (v === undefined) {
      v = make();
      if (v !== undefined) table.set(value, v);
    }
    return v;
  }
  target(key: string, make: () => Target | string): Target | string {
    const v = this.targets.get(key);
    if (v !== undefined) return v;
    const t = make();
    if (typeof t !== "string") this.targets.set(key, t);
    return t;
  }

  // The fast paths' tables (iptables-scan.ts): keyed by the name or value alone.
  private readonly jumps = new Map<string, Target | null>();
  private readonly gotos = new Map<string, Target | null>();
  private readonly probabilities = new Map<string, Cond>();
  /** `-j NAME` / `-g NAME` with no target options; undefined where the name needs options (DNAT). */
  jump(name: string, isGoto: boolean): Target | undefined {
    const table = isGoto ? this.gotos : this.jumps;
    let t = table.get(name);
    if (t === undefined) {
      const made = targetFromName(name, isGoto, () => undefined);
      table.set(name, (t = typeof made === "string" ? null : made));
    }
    return t ?? undefined;
  }
  private readonly singles = new Map<Cond, Cond[]>();
  private readonly none: Cond[] = [];
  /**
   * A rule's conditions at their exact length (a pushed-to array keeps room for 17), one shared list
   * for no condition and for each single one (a 10k-Service dump has 36k "-p tcp" DNAT rules and
   * 26k probability jumps). Rules' condition lists are read, never changed, once parsed.
   */
  condList(conds: Cond[]): Cond[] {
    if (conds.length === 0) return this.none;
    if (conds.length > 1) return conds.slice();
    let list = this.singles.get(conds[0]);
    if (list === undefined) this.singles.set(conds[0], (list = [conds[0]]));
    return list;
  }
  /** `-m statistic --mode random --probability P` by P's text; undefined when P is not a number in 0..1. */
  probability(raw: string): Cond | undefined {
    let c = this.probabilities.get(raw);
    if (c === undefined) {
      const p = Number(raw);
      if (raw === "" || !Number.isFinite(p) || p < 0 || p > 1) return undefined;
      this.probabilities.set(raw, (c = { k: "probability", p }));
    }
    return c;
  }
}

/**
 * Parse the tokens after "-A CHAIN" (from index `start`). Module options are interpreted as they
 * come, keyed by the current `-m` module; this is the hot loop of a 100k-rule dump.
 */
export function parseRuleTokens(tokens: string[], start = 0, intern: Interner = new Interner()): ParsedRule {
  const conds: Cond[] = [];
  let comment: string | undefined;
  let module = "";
  let inTarget = false;
  let neg = false;
  let targetName: string | undefined;
  let isGoto = false;
  let targetOpts: Map<string, string> | undefined;
  let statMode: string | undefined;
  let statValue: string | undefined;
  let unknownModule: string | undefined;

  const n = tokens.length;
  for (let i = start; i < n; i++) {
    const tok = tokens[i];
    if (tok === "!") {
      neg = true;
      continue;
    }
    if (tok.charCodeAt(0) === 45 /* - */ && tok.charCodeAt(1) !== 45) {
      // short option: -p -s -d -i -o -m -j -g -f
      if (tok === "-f") {
        conds.push({ k: "unknown", text: `${neg ? "! " : ""}-f` });
        neg = false;
        continue;
      }
      const value = tokens[i + 1];
      if (value === undefined) return { conds, target: { k: "continue" }, error: `option ${tok} has no value` };
      i++;
      switch (tok) {
        case "-p": {
          const c = protocolCond(value, neg, intern);
          if (c) conds.push(c);
          break;
        }
        case "-s":
        case "-d": {
          const c = addressCond(tok === "-s" ? "src" : "dst", value, neg, intern);
          if (!c) return { conds, target: { k: "continue" }, error: `"${value}" is not an address` };
          conds.push(c);
          break;
        }
        case "-i":
          conds.push({ k: "inIface", name: value, neg });
          break;
        case "-o":
          conds.push({ k: "unknown", text: `${neg ? "! " : ""}-o ${value}` });
          break;
        case "-m": {
          const err = finishModule(module, statMode, statValue, conds, intern);
          if (err) return { conds, target: { k: "continue" }, error: err };
          module = value;
          statMode = statValue = undefined;
          inTarget = false;
          if (!KNOWN_MODULES.has(value)) {
            unknownModule = value;
            conds.push({ k: "unknown", text: `-m ${value}` });
          }
          break;
        }
        case "-j":
        case "-g":
          targetName = value;
          isGoto = tok === "-g";
          inTarget = true;
          break;
        default:
          return { conds, target: { k: "continue" }, error: `unexpected option "${tok}"` };
      }
      neg = false;
      continue;
    }
    if (tok.charCodeAt(0) === 45 && tok.charCodeAt(1) === 45) {
      const long = LONG_ALIASES[tok];
      if (long !== undefined) {
        tokens[i] = long; // "--destination" etc. are "-d"...
        i--;
        continue;
      }
      const name = tok.slice(2);
      let value: string | undefined;
      const next = tokens[i + 1];
      if (next !== undefined && (name === "comment" || (!FLAG_OPTIONS.has(name) && next !== "!" && next.charCodeAt(0) !== 45))) {
        value = next;
        i++;
        if (name === "comment") {
          // kube-proxy's own unit tests write comments unquoted ("--comment ns/svc cluster IP -j ..."):
          // the comment runs to the next option. "->" in "ns/svc -> ip:port" is no option.
          while (i + 1 < n && !isOptionWord(tokens[i + 1]) && !(tokens[i + 1] === "!" && i + 2 < n && isOptionWord(tokens[i + 2]))) {
            value += " " + tokens[++i];
          }
        }
      }
      if (inTarget) {
        (targetOpts ??= new Map()).set(name, value ?? "");
      } else if (module === "") {
        return { conds, target: { k: "continue" }, error: `option ${tok} before any -m` };
      } else if (module !== unknownModule) {
        const err = moduleOption(module, name, value, neg, conds, intern);
        if (err === COMMENT) comment = value ?? "";
        else if (err === STAT_MODE) statMode = value;
        else if (err === STAT_VALUE) statValue = `${name}=${value ?? ""}`;
        else if (err) return { conds, target: { k: "continue" }, error: err };
      }
      neg = false;
      continue;
    }
    if (i === start && tok.charCodeAt(0) === 91 /* [ */) continue; // stray counters
    return { conds, target: { k: "continue" }, error: `unexpected word "${tok}"` };
  }
  const err = finishModule(module, statMode, statValue, conds, intern);
  if (err) return { conds, target: { k: "continue" }, error: err };
  if (targetName === undefined) return { conds, target: CONTINUE, comment };
  const name = targetName;
  const optKey = targetOpts ? [...targetOpts].join(";") : "";
  const t = intern.target(`${isGoto ? "g" : "j"}${name}|${optKey}`, () => targetFromName(name, isGoto, (o) => targetOpts?.get(o)));
  if (typeof t === "string") return { conds, target: { k: "continue" }, comment, error: t };
  return { conds, target: t, comment };
}

/** "-j", "--dport", "-m": a word that starts an option, as opposed to a word of an unquoted comment. */
function isOptionWord(tok: string): boolean {
  return /^(?:-[a-zA-Z]|--[a-z][a-z-]*)$/.test(tok);
}

const LONG_ALIASES: Record<string, string> = {
  "--protocol": "-p", "--source": "-s", "--src": "-s", "--destination": "-d", "--dst": "-d",
  "--in-interface": "-i", "--out-interface": "-o", "--jump": "-j", "--goto": "-g", "--match": "-m", "--fragment": "-f",
};

export const CONTINUE: Target = { k: "continue" };

export const KNOWN_MODULES = new Set(["comment", "tcp", "udp", "sctp", "multiport", "statistic", "addrtype", "recent", "mark", "conntrack", "state", "nfacct"]);
export const COMMENT = "\u0000comment";
export const STAT_MODE = "\u0000mode";
export const STAT_VALUE = "\u0000value";

/** One `--option [value]` of module `module`; returns an error, or a marker for the caller. */
export function moduleOption(module: string, name: string, value: string | undefined, neg: boolean, conds: Cond[], intern: Interner): string | undefined {
  switch (module) {
    case "comment":
      return name === "comment" ? COMMENT : undefined;
    case "tcp":
    case "udp":
    case "sctp":
    case "multiport":
      if (name === "dport" || name === "dports" || name === "destination-port" || name === "destination-ports") {
        const c = intern.cond(neg ? "d!" : "d", value ?? "", () => {
          const ranges = value !== undefined ? parsePortRanges(value) : undefined;
          return ranges ? { k: "dport", ranges, neg } : undefined;
        });
        if (!c) return `bad port "${value ?? ""}"`;
        conds.push(c);
      } else if (name !== "syn") {
        conds.push({ k: "unknown", text: `-m ${module} --${name}` }); // --syn: a new connection starts with SYN
      }
      return undefined;
    case "statistic":
      if (name === "mode") return STAT_MODE;
      if (name === "probability" || name === "every") return STAT_VALUE;
      return undefined; // --packet: which of the nth; does not change the fraction
    case "addrtype":
      if ((name === "dst-type" || name === "src-type") && value === "LOCAL") {
        conds.push(intern.cond(neg ? name + "!" : name, "", () => ({ k: name === "dst-type" ? "dstLocal" : "srcLocal", neg }))!);
      }
      else if (name !== "limit-iface-in" && name !== "limit-iface-out") conds.push({ k: "unknown", text: `-m addrtype --${name} ${value ?? ""}` });
      return undefined;
    case "recent":
      // session affinity: --rcheck/--update look the client up in a list a new client is not in
      if ((name === "rcheck" || name === "update") && !neg) {
        conds.push(intern.cond("recent", "", () => ({ k: "never", why: "session affinity (-m recent --rcheck) does not match a new client" }))!);
      }
      return undefined;
    case "mark": {
      if (name !== "mark") return undefined;
      const [v, m] = (value ?? "").split("/");
      const mv = parseNumber(v);
      const mask = m !== undefined ? parseNumber(m) : 0xffffffff;
      if (mv === undefined || mask === undefined) return `bad mark "${value ?? ""}"`;
      conds.push({ k: "mark", value: mv, mask, neg });
      return undefined;
    }
    case "conntrack":
    case "state":
      if (name === "ctstate" || name === "state") {
        const isNew = (value ?? "").split(",").includes("NEW");
        if (isNew === neg) conds.push({ k: "never", why: `--${name} ${value ?? ""} does not match a new connection` });
      } else conds.push({ k: "unknown", text: `-m ${module} --${name} ${value ?? ""}` });
      return undefined;
    default:
      return undefined; // nfacct: counts only
  }
}

/** The statistic match needs its mode and its value together. */
export function finishModule(module: string, mode: string | undefined, value: string | undefined, conds: Cond[], intern: Interner): string | undefined {
  if (module !== "statistic") return undefined;
  const cached = intern.cond(`s${mode}`, value ?? "", () => undefined);
  if (cached) {
    conds.push(cached);
    return undefined;
  }
  const [key, raw] = (value ?? "=").split("=");
  if (mode === "random" && key === "probability") {
    const p = Number(raw);
    if (raw === "" || !Number.isFinite(p) || p < 0 || p > 1) return "statistic probability is not a number in 0..1";
    conds.push(intern.cond(`s${mode}`, value ?? "", () => ({ k: "probability", p }))!);
  } else if (mode === "nth" && key === "every") {
    const every = Number(raw);
    if (!Number.isInteger(every) || every < 1) return "statistic --every is not a positive integer";
    conds.push({ k: "probability", p: 1 / every });
  } else {
    conds.push({ k: "unknown", text: `-m statistic --mode ${mode ?? "?"}` });
  }
  return undefined;
}

/** `-p PROTO` as a condition; undefined for "all" / "0", which match any protocol. Shared with the fast scanner. */
export function protocolCond(value: string, neg: boolean, intern: Interner): Cond | undefined {
  if (value === "all" || value === "0") return undefined;
  return intern.cond(neg ? "p!" : "p", value, () => ({ k: "proto", protos: [protocolName(value)], neg }));
}

/** `-s` / `-d ADDR[/LEN]` as a condition; undefined when the value is not an address. Shared with the fast scanner. */
export function addressCond(k: "src" | "dst", value: string, neg: boolean, intern: Interner): Cond | undefined {
  return intern.cond(neg ? k + "!" : k, value, () => {
    const cidr = parseCidr(value);
    return cidr ? { k, cidrs: [cidr], neg } : undefined;
  });
}

export function protocolName(p: string): string {
  const lower = p.toLowerCase();
  return lower === "6" ? "tcp" : lower === "17" ? "udp" : lower === "132" ? "sctp" : lower;
}

const BUILTIN_TARGETS = new Set([
  "DNAT", "SNAT", "MASQUERADE", "REDIRECT", "RETURN", "ACCEPT", "DROP", "REJECT", "MARK", "CONNMARK",
  "LOG", "NFLOG", "ULOG", "TRACE", "CT", "NOTRACK", "CLASSIFY", "TCPMSS", "NETMAP", "DSCP", "TOS", "AUDIT", "TEE", "SET",
]);

/** A target by name; `opt` reads its options. Returns an error string when unreadable. */
export function targetFromName(name: string, isGoto: boolean, opt: (o: string) => string | undefined): Target | string {
  switch (name) {
    case "DNAT": {
      const to = opt("to-destination") ?? opt("to");
      const hp = to !== undefined ? parseHostPort(to) : undefined;
      if (!hp) return `DNAT destination "${to ?? ""}" is not ip[:port]`;
      return { k: "dnat", ip: hp.ip, port: hp.port };
    }
    case "RETURN":
      return { k: "return" };
    case "ACCEPT":
      return { k: "accept" };
    case "DROP":
      return { k: "drop" };
    case "REJECT":
      return { k: "reject" };
    case "SNAT":
    case "MASQUERADE":
    case "REDIRECT":
    case "NETMAP":
      return { k: "nat-done", name };
    case "MARK": {
      for (const [op, key] of [["or", "or-mark"], ["xor", "xor-mark"], ["and", "and-mark"]] as const) {
        const v = opt(key);
        if (v !== undefined) {
          const value = parseNumber(v);
          return value === undefined ? `bad mark "${v}"` : { k: "mark", op, value, mask: 0xffffffff };
        }
      }
      const set = opt("set-xmark") ?? opt("set-mark");
      if (set !== undefined) {
        const [v, m] = set.split("/");
        const value = parseNumber(v);
        const mask = m !== undefined ? parseNumber(m) : 0xffffffff;
        if (value === undefined || mask === undefined) return `bad mark "${set}"`;
        return { k: "mark", op: "set", value, mask };
      }
      return { k: "continue", name };
    }
    default:
      if (BUILTIN_TARGETS.has(name)) return { k: "continue", name };
      return isGoto ? { k: "goto", chain: name } : { k: "jump", chain: name };
  }
}
