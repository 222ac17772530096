// The fast paths for rule lines: read "-A CHAIN <options>" in place, in the dump's own text,
// without splitting it into a token array. kube-proxy's own shapes are matched by one compiled
// pattern; other plain shapes (iptables-save's option order and quoting) by a scanner. Anything
// unusual (escaped quotes, unknown options, target options other than DNAT's, doubled spaces)
// returns undefined and the caller uses the general tokenizer + parseRuleTokens, so every path
// means the same: the same conditions in the same order, the same comment, the same target
// (tests/iptables/scan-rule.test.ts checks it).
import type { Cond, Target } from "./graph";
import {
  COMMENT, CONTINUE, FLAG_OPTIONS, type Interner, KNOWN_MODULES, type ParsedRule, STAT_MODE, STAT_VALUE,
  addressCond, finishModule, moduleOption, protocolCond, targetFromName,
} from "./iptables-rule";

const SPACE = 32;
const DASH = 45;
const QUOTE = 34;
const BANG = 33;

/**
 * The shapes kube-proxy writes, with iptables-save's spacing and option order, in one pattern:
 * [! ]-s A, [! ]-d A, -p tcp|udp|sctp, -m comment --comment "C", -m addrtype [! ]--src|dst-type
 * LOCAL, -m tcp|udp|sctp [--dport N], -m statistic --mode random --probability P, then -j NAME
 * [--to-destination D] ending the line (no value holds a quote, and a long option's value never
 * starts with "-" or "!", as parseRuleTokens reads them): 99% of a 10k-Service dump's lines. A
 * compiled pattern reads them several times faster than a loop over their characters in JavaScript.
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
  return { conds: intern.condList(conds), target, comment };
}

/** The scanner for rules outside KUBE_PROXY_RULE's shapes: the options in s[pos, lineEnd). */
function scanOptions(s: string, pos: number, lineEnd: number, intern: Interner): ParsedRule | undefined {
  const n = lineEnd;
  const conds: Cond[] = [];
  let comment: string | undefined;
  let module = "";
  let neg = false;
  let statMode: string | undefined;
  let statValue: string | undefined;
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
    let end = s.indexOf(" ", pos);
    if (end < 0 || end > n) end = n;
    if (s.charCodeAt(pos + 1) !== DASH) {
      // short option with a plain value
      if (end - pos !== 2) return undefined;
      const letter = s[pos + 1];
      const vs = end + 1;
      // a quoted or doubly spaced value: the general parser's tokens decide what it is
      if (vs >= n || s.charCodeAt(vs) === QUOTE || s.charCodeAt(vs) === SPACE) return undefined;
      let ve = s.indexOf(" ", vs);
      if (ve < 0 || ve > n) ve = n;
      const value = s.slice(vs, ve);
      pos = ve;
      switch (letter) {
        case "p": {
          const c = protocolCond(value, neg, intern);
          if (c) conds.push(c);
          break;
        }
        case "s":
        case "d": {
          const c = addressCond(letter === "s" ? "src" : "dst", value, neg, intern);
          if (!c) return undefined;
          conds.push(c);
          break;
        }
        case "m": {
          if (!KNOWN_MODULES.has(value)) return undefined;
          if (finishModule(module, statMode, statValue, conds, intern)) return undefined;
          module = value;
          statMode = statValue = undefined;
          break;
        }
        case "j":
        case "g": {
          if (neg) return undefined;
          const target = scanTarget(value, letter === "g", s.slice(pos, n).trim(), intern);
          if (!target) return undefined;
          if (finishModule(module, statMode, statValue, conds, intern)) return undefined;
          return { conds, target, comment };
        }
        default:
          return undefined;
      }
      neg = false;
      continue;
    }
    // long option of the current module: --name [value | "quoted value"]
    if (module === "") return undefined;
    const name = s.slice(pos + 2, end);
    pos = end;
    let value: string | undefined;
    const vs = end + 1;
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
        let ve = s.indexOf(" ", vs);
        if (ve < 0 || ve > n) ve = n;
        value = s.slice(vs, ve);
        pos = ve;
      }
    }
    const r = moduleOption(module, name, value, neg, conds, intern);
    if (r === COMMENT) comment = value ?? "";
    else if (r === STAT_MODE) statMode = value;
    else if (r === STAT_VALUE) statValue = `${name}=${value ?? ""}`;
    else if (r !== undefined) return undefined; // let the general parser word the error
    neg = false;
  }
  if (finishModule(module, statMode, statValue, conds, intern)) return undefined;
  return { conds, target: CONTINUE, comment };
}

/** A target with no options, DNAT --to-destination, or MASQUERADE's flags. */
function scanTarget(name: string, isGoto: boolean, rest: string, intern: Interner): Target | undefined {
  // the common case: a jump to a chain (or a bare builtin), one shared object per name
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
