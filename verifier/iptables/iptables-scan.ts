// The fast path for rule lines: reads "-A CHAIN <options>" in place, inside the dump's own text
// (offsets, no token array, no per-option strings for the words kube-proxy always writes), for the
// plain shapes kube-proxy and iptables-save write. Anything unusual (escaped quotes, unknown
// options, target options other than DNAT's) returns undefined and the caller uses the general
// tokenizer + parseRuleTokens, so both paths mean the same: the same conditions, in the same order,
// the same comment and the same target.
import type { Cond, Target } from "./graph";
import {
  COMMENT, CONTINUE, FLAG_OPTIONS, type Interner, type ParsedRule, STAT_MODE, STAT_VALUE,
  addressCond, finishModule, moduleOption, protocolCond, targetFromName,
} from "./iptables-rule";

const SPACE = 32;
const DASH = 45;
const QUOTE = 34;
const BANG = 33;
const DOT = 46;
const SLASH = 47;
const COLON = 58;
const ZERO = 48;
const NINE = 57;

/** The module names parseRuleTokens knows (KNOWN_MODULES), matched in place; undefined for any other word. */
function moduleAt(s: string, from: number, to: number): string | undefined {
  let name: string | undefined;
  switch (to - from) {
    case 3:
      name = s.startsWith("tcp", from) ? "tcp" : s.startsWith("udp", from) ? "udp" : undefined;
      break;
    case 4:
      name = s.startsWith("sctp", from) ? "sctp" : s.startsWith("mark", from) ? "mark" : undefined;
      break;
    case 5:
      name = s.startsWith("state", from) ? "state" : undefined;
      break;
    case 6:
      name = s.startsWith("recent", from) ? "recent" : s.startsWith("nfacct", from) ? "nfacct" : undefined;
      break;
    case 7:
      name = s.startsWith("comment", from) ? "comment" : undefined;
      break;
    case 8:
      name = s.startsWith("addrtype", from) ? "addrtype" : undefined;
      break;
    case 9:
      name = s.startsWith("statistic", from) ? "statistic" : s.startsWith("multiport", from) ? "multiport" : s.startsWith("conntrack", from) ? "conntrack" : undefined;
      break;
  }
  return name;
}

/** A long option's name ("comment" for "--comment"): the common ones without a new string. */
function optionAt(s: string, from: number, to: number): string {
  switch (to - from) {
    case 4:
      if (s.startsWith("mode", from)) return "mode";
      break;
    case 5:
      if (s.startsWith("dport", from)) return "dport";
      break;
    case 7:
      if (s.startsWith("comment", from)) return "comment";
      break;
    case 8:
      if (s.startsWith("dst-type", from)) return "dst-type";
      break;
    case 11:
      if (s.startsWith("probability", from)) return "probability";
      break;
  }
  return s.slice(from, to);
}

/** The next space at or after `from`, or `end`. */
function spaceOrEnd(s: string, from: number, end: number): number {
  const i = s.indexOf(" ", from);
  return i < 0 || i > end ? end : i;
}

/**
 * A plain decimal number in s[from, to) with no leading zero (the form iptables-save prints),
 * at most `max`; -1 otherwise.
 */
function decimalAt(s: string, from: number, to: number, max: number): number {
  if (to <= from || to - from > 10 || (s.charCodeAt(from) === ZERO && to - from > 1)) return -1;
  let n = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c < ZERO || c > NINE) return -1;
    n = n * 10 + (c - ZERO);
  }
  return n <= max ? n : -1;
}

/**
 * A dotted IPv4 address in s[from, to) as iptables-save prints it (no leading zeros), as an
 * unsigned number; -1 otherwise. Stops at `to` or at the first '/' or ':'; `stopAt` receives where.
 */
function ipv4At(s: string, from: number, to: number, stopAt: { pos: number }): number {
  let n = 0;
  let octets = 0;
  let i = from;
  for (;;) {
    const start = i;
    let v = 0;
    while (i < to) {
      const c = s.charCodeAt(i);
      if (c < ZERO || c > NINE) break;
      v = v * 10 + (c - ZERO);
      i++;
    }
    const len = i - start;
    if (len === 0 || len > 3 || v > 255 || (len > 1 && s.charCodeAt(start) === ZERO)) return -1;
    n = n * 256 + v;
    octets++;
    if (octets === 4) break;
    if (i >= to || s.charCodeAt(i) !== DOT) return -1;
    i++;
  }
  if (i < to) {
    const c = s.charCodeAt(i);
    if (c !== SLASH && c !== COLON) return -1;
  }
  stopAt.pos = i;
  return n;
}

const STOP = { pos: 0 };

/**
 * `-s` / `-d` ADDR[/LEN] for a canonical IPv4 value, interned by its number (no string key);
 * anything else goes through addressCond, which reads every form.
 */
function addressAt(kind: "src" | "dst", s: string, from: number, to: number, neg: boolean, intern: Interner): Cond | undefined {
  const v4 = ipv4At(s, from, to, STOP);
  if (v4 >= 0) {
    let bits = 32;
    let slash = 0;
    if (STOP.pos < to) {
      if (s.charCodeAt(STOP.pos) !== SLASH) return addressCond(kind, s.slice(from, to), neg, intern);
      bits = decimalAt(s, STOP.pos + 1, to, 32);
      if (bits < 0 || to - STOP.pos - 1 > 2) return addressCond(kind, s.slice(from, to), neg, intern);
      slash = 1;
    }
    // the text is a function of (address, length, slash written): one key per distinct text
    const key = (v4 * 64 + bits) * 2 + slash;
    const table = intern.numbered(neg ? (kind === "src" ? 1 : 2) : kind === "src" ? 3 : 4);
    let c = table.get(key);
    if (c === undefined) {
      const size = 2 ** (32 - bits);
      const cidr = { v4: { base: v4 - (v4 % size), bits }, text: s.slice(from, to) };
      c = { k: kind, cidrs: [cidr], neg } as Cond;
      table.set(key, c);
    }
    return c;
  }
  return addressCond(kind, s.slice(from, to), neg, intern);
}

/**
 * The shapes kube-proxy writes, with iptables-save's spacing and option order, in one pattern:
 * [! ]-s A, [! ]-d A, -p tcp|udp|sctp, -m comment --comment "C", -m addrtype [! ]--src|dst-type
 * LOCAL, -m tcp|udp|sctp [--dport N], -m statistic --mode random --probability P, then -j NAME
 * [--to-destination D] ending the line (no value holds a quote, and a long option's value never
 * starts with "-" or "!", as parseRuleTokens reads them). 99% of a 10k-Service dump's lines; a compiled pattern reads them several times
 * faster than a loop over their characters in JavaScript.
 */
const KUBE_PROXY_RULE =
  / (?:(! )?-s ([^\s"]+) )?(?:(! )?-d ([^\s"]+) )?(?:-p (tcp|udp|sctp) )?(?:-m comment --comment "([^"\\]*)" )?(?:-m addrtype (! )?--(src-type|dst-type) LOCAL )?(?:-m (tcp|udp|sctp) (?:--dport (\d+) )?)?(?:-m statistic --mode random --probability ([^\s"!-][^\s"]*) )?-j ([^\s"]+)(?: --to-destination ([^\s"!-][^\s"]*))?(?=\n|$)/y;

/**
 * Parse the options of the rule in s[pos, end) (pos just after the chain name): kube-proxy's own
 * shapes by KUBE_PROXY_RULE, any other by the scanner below; undefined = for the general parser.
 * Conditions come in the order of the options, as parseRuleTokens gives them.
 */
export function scanRule(s: string, pos: number, end: number, intern: Interner): ParsedRule | undefined {
  KUBE_PROXY_RULE.lastIndex = pos;
  const m = KUBE_PROXY_RULE.exec(s);
  if (m === null || KUBE_PROXY_RULE.lastIndex !== end) return scanOptions(s, pos, end, intern);
  const [, srcNeg, src, dstNeg, dst, proto, comment, typeNeg, addrType, portModule, dport, probability, name, dnatTo] = m;
  const conds: Cond[] = [];
  if (src !== undefined) {
    const c = addressCond("src", src, srcNeg !== undefined, intern);
    if (c === undefined) return undefined;
    conds.push(c);
  }
  if (dst !== undefined) {
    const c = addressCond("dst", dst, dstNeg !== undefined, intern);
    if (c === undefined) return undefined;
    conds.push(c);
  }
  if (proto !== undefined) conds.push(protocolCond(proto, false, intern)!);
  if (addrType !== undefined && moduleOption("addrtype", addrType, "LOCAL", typeNeg !== undefined, conds, intern) !== undefined) return undefined;
  if (dport !== undefined && moduleOption(portModule!, "dport", dport, false, conds, intern) !== undefined) return undefined;
  if (probability !== undefined) {
    const c = intern.probability(probability);
    if (c === undefined) return undefined;
    conds.push(c);
  }
  let target: Target | undefined;
  if (dnatTo === undefined) target = intern.jump(name!, false);
  else if (name === "DNAT") {
    const t = targetFromName(name, false, (o) => (o === "to-destination" ? dnatTo : undefined));
    target = typeof t === "string" ? undefined : t;
  } else return scanOptions(s, pos, end, intern);
  if (target === undefined) return undefined;
  // at its exact length: a pushed-to array keeps room for 17, which 100k rules would keep
  return { conds: conds.slice(), target, comment };
}

/** The scanner for rules outside KUBE_PROXY_RULE's shapes (see the top of this file). */
function scanOptions(s: string, pos: number, end: number, intern: Interner): ParsedRule | undefined {
  const n = end;
  // copied once at its exact length at the end: a pushed-to array keeps room for 17, and a
  // 100k-rule graph would keep that slack
  const conds: Cond[] = [];
  let comment: string | undefined;
  let module = "";
  let neg = false;
  let statMode: string | undefined;
  let statValue: string | undefined;
  /** `--probability P` of the current statistic match, kept apart so the common case needs no "probability=P" string */
  let probability: string | undefined;
  for (;;) {
    while (pos < n && s.charCodeAt(pos) === SPACE) pos++;
    if (pos >= n) break;
    const c0 = s.charCodeAt(pos);
    if (c0 === BANG) {
      neg = true;
      pos++;
      continue;
    }
    if (c0 !== DASH) return undefined;
    const optEnd = spaceOrEnd(s, pos, n);
    if (s.charCodeAt(pos + 1) !== DASH) {
      // short option with a plain value
      if (optEnd - pos !== 2) return undefined;
      const letter = s.charCodeAt(pos + 1);
      const vs = optEnd + 1;
      // a quoted or doubly spaced value: the general parser's tokens decide what it is
      if (vs >= n || s.charCodeAt(vs) === QUOTE || s.charCodeAt(vs) === SPACE) return undefined;
      const ve = spaceOrEnd(s, vs, n);
      pos = ve;
      switch (letter) {
        case 112 /* p */: {
          const c = ve - vs === 3 && s.startsWith("tcp", vs) ? protocolCond("tcp", neg, intern) : protocolCond(s.slice(vs, ve), neg, intern);
          if (c) conds.push(c);
          break;
        }
        case 115 /* s */:
        case 100 /* d */: {
          const c = addressAt(letter === 115 ? "src" : "dst", s, vs, ve, neg, intern);
          if (!c) return undefined;
          conds.push(c);
          break;
        }
        case 109 /* m */: {
          const value = moduleAt(s, vs, ve);
          if (value === undefined) return undefined;
          if (!finishStatistic(module, statMode, statValue, probability, conds, intern)) return undefined;
          module = value;
          statMode = statValue = probability = undefined;
          break;
        }
        case 106 /* j */:
        case 103 /* g */: {
          if (neg) return undefined;
          const target = scanTarget(s, vs, ve, letter === 103, n, intern);
          if (!target) return undefined;
          if (!finishStatistic(module, statMode, statValue, probability, conds, intern)) return undefined;
          return { conds: conds.slice(), target, comment };
        }
        default:
          return undefined;
      }
      neg = false;
      continue;
    }
    // long option of the current module: --name [value | "quoted value"]
    if (module === "") return undefined;
    const name = optionAt(s, pos + 2, optEnd);
    pos = optEnd;
    let value: string | undefined;
    const vs = optEnd + 1;
    if (vs < n) {
      const c = s.charCodeAt(vs);
      if (c === SPACE) return undefined;
      if (c === QUOTE) {
        const close = s.indexOf('"', vs + 1);
        if (close < 0 || close >= n) return undefined;
        value = s.slice(vs + 1, close);
        if (value.indexOf("\\") >= 0) return undefined;
        pos = close + 1;
      } else if (name === "comment" || (!FLAG_OPTIONS.has(name) && c !== DASH && c !== BANG)) {
        const ve = spaceOrEnd(s, vs, n);
        if (name === "dport" && (module === "tcp" || module === "udp" || module === "sctp" || module === "multiport")) {
          // the port of nearly every kube-proxy rule: interned by number, no string
          const port = decimalAt(s, vs, ve, 65535);
          if (port >= 0) {
            const table = intern.numbered(neg ? 5 : 6);
            let cond = table.get(port);
            if (cond === undefined) table.set(port, (cond = { k: "dport", ranges: [[port, port]], neg }));
            conds.push(cond);
            pos = ve;
            neg = false;
            continue;
          }
        }
        value = s.slice(vs, ve);
        pos = ve;
      }
    }
    const r = moduleOption(module, name, value, neg, conds, intern);
    if (r === COMMENT) comment = value ?? "";
    else if (r === STAT_MODE) statMode = value;
    else if (r === STAT_VALUE) {
      // the last of --probability / --every counts, as in parseRuleTokens
      if (name === "probability" && value !== undefined) [probability, statValue] = [value, undefined];
      else [probability, statValue] = [undefined, `${name}=${value ?? ""}`];
    } else if (r !== undefined) return undefined; // let the general parser word the error
    neg = false;
  }
  if (!finishStatistic(module, statMode, statValue, probability, conds, intern)) return undefined;
  return { conds: conds.slice(), target: CONTINUE, comment };
}

/**
 * finishModule for the scanner: `--mode random --probability P`, kube-proxy's split, interned by
 * P's text; anything else as finishModule reads it. False where the general parser words an error.
 */
function finishStatistic(module: string, mode: string | undefined, value: string | undefined, probability: string | undefined, conds: Cond[], intern: Interner): boolean {
  if (module !== "statistic") return true;
  if (probability !== undefined && mode === "random") {
    const c = intern.probability(probability);
    if (c === undefined) return false;
    conds.push(c);
    return true;
  }
  return finishModule(module, mode, probability !== undefined ? `probability=${probability}` : value, conds, intern) === undefined;
}

/** A target with no options, DNAT --to-destination, or MASQUERADE's flags; s[vs, ve) is its name. */
function scanTarget(s: string, vs: number, ve: number, isGoto: boolean, end: number, intern: Interner): Target | undefined {
  // the common case: a jump to a chain (or a bare builtin) ending the line, one shared object per name
  if (ve >= end) return intern.jump(s.slice(vs, ve), isGoto);
  const name = s.slice(vs, ve);
  if (ve - vs === 4 && name === "DNAT" && s.startsWith(" --to-destination ", ve)) {
    // kube-proxy's endpoint rule: "ip:port" ending the line, read in place
    const from = ve + 18;
    if (spaceOrEnd(s, from, end) === end) {
      const ip = ipv4At(s, from, end, STOP);
      const port = ip >= 0 && STOP.pos < end && s.charCodeAt(STOP.pos) === COLON ? decimalAt(s, STOP.pos + 1, end, 65535) : -1;
      if (port >= 0) return { k: "dnat", ip: s.slice(from, STOP.pos), port };
    }
  }
  const rest = s.slice(ve, end).trim();
  if (rest === "") return intern.jump(name, isGoto);
  let opts: [string, string] | undefined;
  const m = /^--(to-destination|or-mark|xor-mark|set-xmark) (\S+)$/.exec(rest);
  if (m) opts = [m[1], m[2]];
  else if (!/^(--random-fully|--random|--persistent)( --random-fully| --random| --persistent)*$/.test(rest)) return undefined;
  const t = intern.target(`${isGoto ? "g" : "j"}${name}|${opts ? opts.join("=") : ""}`, () =>
    targetFromName(name, isGoto, (o) => (opts && opts[0] === o ? opts[1] : undefined)),
  );
  return typeof t === "string" ? undefined : t;
}

