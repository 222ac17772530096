// The fast path for rule lines: reads "-A CHAIN <options>" in place, without splitting it into a
// token array, for the plain shapes kube-proxy and iptables-save write. Anything unusual (escaped
// quotes, unknown options, target options other than DNAT's) returns undefined and the caller
// uses the general tokenizer + parseRuleTokens, so both paths mean the same.
import type { Cond, Target } from "./graph";
import {
  COMMENT, CONTINUE, FLAG_OPTIONS, type Interner, KNOWN_MODULES, type ParsedRule, STAT_MODE, STAT_VALUE,
  addressCond, finishModule, moduleOption, protocolCond, targetFromName,
} from "./iptables-rule";

const SPACE = 32;
const DASH = 45;
const QUOTE = 34;
const BANG = 33;

/** Parse the options of a rule starting at `pos` (just after the chain name). */
export function scanRule(s: string, pos: number, intern: Interner): ParsedRule | undefined {
  const n = s.length;
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
    if (end < 0) end = n;
    if (s.charCodeAt(pos + 1) !== DASH) {
      // short option with a plain value
      if (end - pos !== 2) return undefined;
      const letter = s[pos + 1];
      const vs = end + 1;
      if (vs >= n || s.charCodeAt(vs) === QUOTE) return undefined;
      let ve = s.indexOf(" ", vs);
      if (ve < 0) ve = n;
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
          const target = scanTarget(value, letter === "g", s.slice(pos).trim(), intern);
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
      if (c === QUOTE) {
        const close = s.indexOf('"', vs + 1);
        if (close < 0) return undefined;
        value = s.slice(vs + 1, close);
        if (value.indexOf("\\") >= 0) return undefined;
        pos = close + 1;
      } else if (name === "comment" || (!FLAG_OPTIONS.has(name) && c !== DASH && c !== BANG)) {
        let ve = s.indexOf(" ", vs);
        if (ve < 0) ve = n;
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
  if (rest === "") {
    // the common case: a jump to a chain (or a bare builtin), one shared object per name
    const t = intern.target(isGoto ? "\u0000g" + name : name, () => targetFromName(name, isGoto, () => undefined));
    return typeof t === "string" ? undefined : t;
  }
  let opts: [string, string] | undefined;
  const m = /^--(to-destination|or-mark|xor-mark|set-xmark) (\S+)$/.exec(rest);
  if (m) opts = [m[1], m[2]];
  else if (!/^(--random-fully|--random|--persistent)( --random-fully| --random| --persistent)*$/.test(rest)) return undefined;
  const t = intern.target(`${isGoto ? "g" : "j"}${name}|${opts ? opts.join("=") : ""}`, () =>
    targetFromName(name, isGoto, (o) => (opts && opts[0] === o ? opts[1] : undefined)),
  );
  return typeof t === "string" ? undefined : t;
}
