// One iptables rule in `iptables-save` / `iptables-restore` syntax ("-A CHAIN -m tcp -p tcp ...")
// turned into conditions and a target. The `iptables -L` parser reuses the interpretation of
// targets (`targetFromName`) so both formats mean the same thing by the same words.
import { type Cond, type Target, parseCidr, parseHostPort, parseNumber, parsePortRanges } from "./graph";

/** Split a rule line like a shell would: whitespace-separated, "double quotes" with \" escapes. */
export function tokenize(line: string): string[] | string {
  const out: string[] = [];
  let i = 0;
  const n = line.length;
  while (i < n) {
    const c = line.charCodeAt(i);
    if (c === 32 || c === 9) {
      i++;
      continue;
    }
    if (c === 34 /* " */) {
      let tok = "";
      i++;
      for (;;) {
        if (i >= n) return "unterminated quote";
        const ch = line[i];
        if (ch === "\\" && i + 1 < n) {
          tok += line[i + 1];
          i += 2;
        } else if (ch === '"') {
          i++;
          break;
        } else {
          tok += ch;
          i++;
        }
      }
      out.push(tok);
      continue;
    }
    let j = i;
    while (j < n && line.charCodeAt(j) !== 32 && line.charCodeAt(j) !== 9) j++;
    out.push(line.slice(i, j));
    i = j;
  }
  return out;
}

export interface ParsedRule {
  conds: Cond[];
  target: Target;
  comment?: string;
  /** problems that make the rule unreadable */
  error?: string;
}

const BASE_OPTION_ALIASES: Record<string, string> = {
  "-p": "p", "--protocol": "p", "-s": "s", "--source": "s", "--src": "s",
  "-d": "d", "--destination": "d", "--dst": "d", "-i": "i", "--in-interface": "i",
  "-o": "o", "--out-interface": "o", "-j": "j", "--jump": "j", "-g": "g", "--goto": "g",
  "-m": "m", "--match": "m", "-f": "f", "--fragment": "f",
};

/** Options that never take a value (so the next token is not swallowed). */
const FLAG_OPTIONS = new Set(["rcheck", "update", "set", "remove", "reap", "rsource", "rdest", "random-fully", "random", "persistent", "syn", "rttl"]);

/** Parse the tokens after "-A CHAIN". */
export function parseRuleTokens(tokens: string[]): ParsedRule {
  const conds: Cond[] = [];
  let target: Target = { k: "continue" };
  let targetName: string | undefined;
  const targetOpts = new Map<string, string>();
  let comment: string | undefined;
  let module = "";
  let inTarget = false;
  let neg = false;
  // module options are gathered per module, then interpreted together (e.g. statistic mode+probability)
  const moduleOpts: { module: string; opts: { name: string; value?: string; neg: boolean }[] }[] = [];

  for (let i = 0; i < tokens.length; i++) {
    const tok = tokens[i];
    if (tok === "!") {
      neg = true;
      continue;
    }
    const base = BASE_OPTION_ALIASES[tok];
    if (base !== undefined) {
      if (base === "f") {
        conds.push({ k: "unknown", text: `${neg ? "! " : ""}${tok}` });
        neg = false;
        continue;
      }
      const value = tokens[i + 1];
      if (value === undefined) return { conds, target, error: `option ${tok} has no value` };
      i++;
      switch (base) {
        case "p":
          if (value !== "all" && value !== "0") conds.push({ k: "proto", protos: [protocolName(value)], neg });
          break;
        case "s":
        case "d": {
          const cidr = parseCidr(value);
          if (!cidr) return { conds, target, error: `"${value}" is not an address` };
          conds.push({ k: base === "s" ? "src" : "dst", cidrs: [cidr], neg });
          break;
        }
        case "i":
          conds.push({ k: "inIface", name: value, neg });
          break;
        case "o":
          conds.push({ k: "unknown", text: `${neg ? "! " : ""}-o ${value}` });
          break;
        case "m":
          module = value;
          moduleOpts.push({ module, opts: [] });
          inTarget = false;
          break;
        case "j":
        case "g":
          targetName = value;
          target = base === "g" ? { k: "goto", chain: value } : { k: "jump", chain: value };
          inTarget = true;
          break;
      }
      neg = false;
      continue;
    }
    if (tok.startsWith("--")) {
      const name = tok.slice(2);
      let value: string | undefined;
      const next = tokens[i + 1];
      if (next !== undefined && (name === "comment" || (!FLAG_OPTIONS.has(name) && next !== "!" && !next.startsWith("-")))) {
        value = next;
        i++;
      }
      if (inTarget) targetOpts.set(name, value ?? "");
      else if (moduleOpts.length > 0) moduleOpts[moduleOpts.length - 1].opts.push({ name, value, neg });
      else return { conds, target, error: `option ${tok} before any -m` };
      neg = false;
      continue;
    }
    if (tok.startsWith("[") && i === 0) continue; // stray counters
    return { conds, target, error: `unexpected word "${tok}"` };
  }

  for (const m of moduleOpts) {
    const r = interpretModule(m.module, m.opts, conds);
    if (r.comment !== undefined) comment = r.comment;
    if (r.error) return { conds, target, error: r.error };
  }
  if (targetName !== undefined) {
    const t = targetFromName(targetName, target.k === "goto", (o) => targetOpts.get(o));
    if (typeof t === "string") return { conds, target, comment, error: t };
    target = t;
  }
  return { conds, target, comment };
}

function protocolName(p: string): string {
  const lower = p.toLowerCase();
  return lower === "6" ? "tcp" : lower === "17" ? "udp" : lower === "132" ? "sctp" : lower;
}

function interpretModule(module: string, opts: { name: string; value?: string; neg: boolean }[], conds: Cond[]): { comment?: string; error?: string } {
  const text = () => `-m ${module} ${opts.map((o) => `${o.neg ? "! " : ""}--${o.name}${o.value !== undefined ? " " + o.value : ""}`).join(" ")}`;
  switch (module) {
    case "comment": {
      const c = opts.find((o) => o.name === "comment");
      return { comment: c?.value ?? "" };
    }
    case "tcp":
    case "udp":
    case "sctp":
    case "multiport":
      for (const o of opts) {
        if (["dport", "destination-port", "dports", "destination-ports"].includes(o.name)) {
          const ranges = o.value !== undefined ? parsePortRanges(o.value) : undefined;
          if (!ranges) return { error: `bad port "${o.value ?? ""}"` };
          conds.push({ k: "dport", ranges, neg: o.neg });
        } else if (o.name === "syn") {
          // a new connection starts with SYN: true
        } else {
          conds.push({ k: "unknown", text: `-m ${module} --${o.name}` });
        }
      }
      return {};
    case "statistic": {
      const mode = opts.find((o) => o.name === "mode")?.value;
      if (mode === "random") {
        const p = Number(opts.find((o) => o.name === "probability")?.value);
        if (!Number.isFinite(p) || p < 0 || p > 1) return { error: "statistic probability is not a number in 0..1" };
        conds.push({ k: "probability", p });
      } else if (mode === "nth") {
        const every = Number(opts.find((o) => o.name === "every")?.value);
        if (!Number.isInteger(every) || every < 1) return { error: "statistic --every is not a positive integer" };
        conds.push({ k: "probability", p: 1 / every });
      } else conds.push({ k: "unknown", text: text() });
      return {};
    }
    case "addrtype":
      for (const o of opts) {
        if ((o.name === "dst-type" || o.name === "src-type") && o.value === "LOCAL") {
          conds.push({ k: o.name === "dst-type" ? "dstLocal" : "srcLocal", neg: o.neg });
        } else if (o.name !== "limit-iface-in" && o.name !== "limit-iface-out") {
          conds.push({ k: "unknown", text: text() });
        }
      }
      return {};
    case "recent":
      // session affinity: --rcheck/--update look up the client in a list a new client is not in
      if (opts.some((o) => (o.name === "rcheck" || o.name === "update") && !o.neg)) {
        conds.push({ k: "never", why: "session affinity (-m recent --rcheck) does not match a new client" });
      }
      return {};
    case "mark": {
      const o = opts.find((x) => x.name === "mark");
      const [v, m] = (o?.value ?? "").split("/");
      const value = parseNumber(v);
      const mask = m !== undefined ? parseNumber(m) : 0xffffffff;
      if (!o || value === undefined || mask === undefined) return { error: `bad mark "${o?.value ?? ""}"` };
      conds.push({ k: "mark", value, mask, neg: o.neg });
      return {};
    }
    case "conntrack":
    case "state":
      for (const o of opts) {
        if (o.name === "ctstate" || o.name === "state") {
          const states = (o.value ?? "").split(",");
          const isNew = states.includes("NEW");
          if (isNew === o.neg) conds.push({ k: "never", why: `${text()} does not match a new connection` });
        } else conds.push({ k: "unknown", text: text() });
      }
      return {};
    case "nfacct":
      return {}; // counts, always matches
    default:
      conds.push({ k: "unknown", text: text() });
      return {};
  }
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
