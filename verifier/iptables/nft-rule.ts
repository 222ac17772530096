// One nft rule statement -> graph rules. Verdict-map lookups (`ip daddr . meta l4proto . th dport
// vmap @service-ips`) expand into one rule per element, and `numgen random mod N vmap {...}` (or
// `dnat ... to numgen random mod N map {...}`) into the equivalent probability cascade, so the
// tracer needs no nft-specific logic.
import type { Cond, Rule, Target } from "./graph";
import { parseCidr, parseHostPort, parseNumber, parsePortRanges } from "./graph";
import { type NftSet, type NftTable, readElements, splitTopLevel } from "./nft-structure";
import { clip } from "./parse-save";

type Token = { word: string } | { group: string };

function tokenizeStatement(s: string): Token[] | string {
  const out: Token[] = [];
  let i = 0;
  while (i < s.length) {
    const ch = s[i];
    if (ch === " " || ch === "\t") {
      i++;
    } else if (ch === "{") {
      let depth = 0;
      let j = i;
      for (; j < s.length; j++) {
        if (s[j] === "{") depth++;
        else if (s[j] === "}" && --depth === 0) break;
      }
      if (j >= s.length) return "unbalanced braces";
      out.push({ group: s.slice(i + 1, j).trim() });
      i = j + 1;
    } else if (ch === '"') {
      const j = s.indexOf('"', i + 1);
      if (j < 0) return "unterminated quote";
      out.push({ word: s.slice(i, j + 1) });
      i = j + 1;
    } else {
      let j = i;
      while (j < s.length && s[j] !== " " && s[j] !== "\t" && s[j] !== "{") j++;
      out.push({ word: s.slice(i, j) });
      i = j;
    }
  }
  return out;
}

const SELECTORS: Record<string, "dst" | "src" | "proto" | "dport" | "sport"> = {
  "ip daddr": "dst", "ip6 daddr": "dst", "ip saddr": "src", "ip6 saddr": "src",
  "meta l4proto": "proto", "ip protocol": "proto", "ip6 nexthdr": "proto",
  "th dport": "dport", "tcp dport": "dport", "udp dport": "dport", "sctp dport": "dport",
  "th sport": "sport", "tcp sport": "sport", "udp sport": "sport",
};

/** One rule line -> one or more graph rules (verdict maps expand). Undefined when unreadable. */
export function parseStatement(text: string, line: number, chain: string, table: NftTable, warnings: string[]): Rule[] | undefined {
  const tokens = tokenizeStatement(text);
  if (typeof tokens === "string") {
    warnings.push(`line ${line}: ${tokens}: ${clip(text)}`);
    return undefined;
  }
  const conds: Cond[] = [];
  let comment: string | undefined;
  let packets: number | undefined;
  let bytes: number | undefined;
  let target: Target = { k: "continue" };
  /** alternatives replacing `target` (vmap lookups, numgen cascades) */
  let branches: { conds: Cond[]; target: Target; dispatch?: Rule["dispatch"] }[] | undefined;
  let xtRecent = false;
  const fail = (why: string) => {
    warnings.push(`line ${line}: ${why}: ${clip(text)}`);
    return undefined;
  };
  const w = (k: number): string | undefined => {
    const t = tokens[k];
    return t && "word" in t ? t.word : undefined;
  };

  let i = 0;
  while (i < tokens.length) {
    const a = w(i);
    const two = a !== undefined && w(i + 1) !== undefined ? `${a} ${w(i + 1)}` : undefined;
    if (a === undefined) return fail("unexpected { ... }");

    if (a === "counter") {
      if (w(i + 1) === "packets" && w(i + 3) === "bytes") {
        packets = Number(w(i + 2));
        bytes = Number(w(i + 4));
        i += 5;
      } else i++;
      continue;
    }
    if (a === "comment") {
      comment = (w(i + 1) ?? "").replace(/^"|"$/g, "");
      i += 2;
      continue;
    }
    // concatenated lookup: sel . sel . sel vmap @map | { ... }
    if (two && SELECTORS[two] && w(i + 2) === ".") {
      const selectors: string[] = [two];
      let j = i + 2;
      while (w(j) === "." && w(j + 1) !== undefined && w(j + 2) !== undefined && SELECTORS[`${w(j + 1)} ${w(j + 2)}`]) {
        selectors.push(`${w(j + 1)} ${w(j + 2)}`);
        j += 3;
      }
      if (w(j) !== "vmap") return fail("a concatenation that is not a verdict-map lookup");
      const elements = lookupElements(tokens[j + 1], table);
      if (typeof elements === "string") return fail(elements);
      branches = [];
      for (const e of elements) {
        const bc = keyConds(selectors, e.key);
        const t = verdict(e.value ?? "");
        if (!bc || !t) {
          warnings.push(`line ${e.line}: unreadable element ${e.key.join(" . ")} : ${e.value ?? ""}`);
          continue;
        }
        branches.push({ conds: bc, target: t, dispatch: dispatchOf(selectors, e.key) });
      }
      i = j + 2;
      continue;
    }
    if (two && SELECTORS[two]) {
      const kind = SELECTORS[two];
      let j = i + 2;
      let neg = false;
      if (w(j) === "!=" || w(j) === "==") {
        neg = w(j) === "!=";
        j++;
      }
      const valueTok = tokens[j];
      if (valueTok === undefined) return fail(`${two} without a value`);
      if (w(j + 1) === "vmap") {
        // single-key lookup: th dport vmap @map
        const elements = lookupElements(tokens[j + 2], table);
        if (typeof elements === "string") return fail(elements);
        return fail("single-key verdict map lookups are not supported");
      }
      const values = "group" in valueTok ? splitTopLevel(valueTok.group, ",").map((v) => v.trim()).filter((v) => v !== "") : [valueTok.word];
      let cond: Cond | undefined;
      if (values.length === 1 && values[0].startsWith("@")) {
        const set = table.sets.get(values[0].slice(1));
        if (!set) return fail(`set ${values[0]} is not in the dump`);
        if (set.name.startsWith("affinity-") && kind === "src") cond = neg ? undefined : { k: "never", why: "session affinity: a new client is in no affinity set" };
        else cond = valueCond(kind, set.elements.map((e) => e.key[0]), neg);
        if (cond === undefined && !(set.name.startsWith("affinity-") && neg)) return fail(`unreadable elements in ${values[0]}`);
      } else {
        cond = valueCond(kind, values, neg);
        if (!cond) return fail(`unreadable value for ${two}`);
      }
      if (cond) conds.push(cond);
      i = j + 1;
      continue;
    }
    if (a === "fib") {
      // fib daddr type local | fib saddr type != local
      const which = w(i + 1);
      let j = i + 2;
      if (w(j) !== "type") return fail("unreadable fib expression");
      j++;
      let neg = false;
      if (w(j) === "!=" || w(j) === "==") {
        neg = w(j) === "!=";
        j++;
      }
      const type = w(j);
      if (type === "local" && (which === "daddr" || which === "saddr")) conds.push({ k: which === "daddr" ? "dstLocal" : "srcLocal", neg });
      else conds.push({ k: "unknown", text: `fib ${which} type ${type}` });
      i = j + 1;
      continue;
    }
    if (a === "ct" && (w(i + 1) === "state" || w(i + 1) === "status")) {
      let j = i + 2;
      let neg = false;
      if (w(j) === "!=" || w(j) === "==") {
        neg = w(j) === "!=";
        j++;
      }
      const t = tokens[j];
      const values = t === undefined ? [] : "group" in t ? t.group.split(",").map((v) => v.trim()) : t.word.split(",");
      if (w(i + 1) === "state") {
        if (values.includes("new") === neg) conds.push({ k: "never", why: "ct state does not match a new connection" });
      } else conds.push({ k: "unknown", text: `ct status ${values.join(",")}` });
      i = j + 1;
      continue;
    }
    if ((a === "meta" && w(i + 1) === "mark") || a === "mark") {
      const j = a === "meta" ? i + 2 : i + 1;
      if (w(j) === "set") {
        // meta mark set meta mark | 0x4000 / mark set mark or 0x4000
        const rest: string[] = [];
        let k = j + 1;
        while (w(k) !== undefined && !/^(jump|goto|return|accept|drop|comment|counter)$/.test(w(k)!)) rest.push(w(k)!), k++;
        const expr = rest.join(" ").replace(/^(?:meta )?mark\s*/, "");
        const m = /^(\||or|\^|xor|&|and)\s*(0x[0-9a-fA-F]+|\d+)$/.exec(expr);
        const plain = parseNumber(expr);
        if (m) {
          const op = m[1] === "|" || m[1] === "or" ? "or" : m[1] === "^" || m[1] === "xor" ? "xor" : "and";
          target = { k: "mark", op, value: parseNumber(m[2])!, mask: 0xffffffff };
        } else if (plain !== undefined) target = { k: "mark", op: "set", value: plain, mask: 0xffffffff };
        else return fail("unreadable mark expression");
        i = k;
        continue;
      }
      // meta mark & 0x4000 == 0 / mark and 0x4000 == 0 / meta mark 0x4000
      let k = j;
      let mask = 0xffffffff;
      if (w(k) === "&" || w(k) === "and") {
        const mv = parseNumber(w(k + 1) ?? "");
        if (mv === undefined) return fail("unreadable mark mask");
        mask = mv;
        k += 2;
      }
      let neg = false;
      if (w(k) === "==" || w(k) === "!=") {
        neg = w(k) === "!=";
        k++;
      }
      const value = parseNumber(w(k) ?? "");
      if (value === undefined) return fail("unreadable mark match");
      conds.push({ k: "mark", value, mask, neg });
      i = k + 1;
      continue;
    }
    if (a === "meta" && w(i + 1) === "random") {
      // iptables-nft's `-m statistic --mode random --probability p`: meta random & 0x7fffffff < p * 2^31
      const mask = parseNumber(w(i + 3) ?? "");
      const bound = parseNumber(w(i + 5) ?? "");
      if (w(i + 2) !== "&" || w(i + 4) !== "<" || mask === undefined || bound === undefined) return fail("unreadable meta random expression");
      conds.push({ k: "probability", p: Math.min(1, bound / (mask + 1)) });
      i += 6;
      continue;
    }
    if (a === "xt") {
      // an iptables match or target nft cannot print: `xt match recent` is session affinity.
      // kube-proxy writes `-m recent --rcheck` on the service chain's jumps (never true for a new
      // client) and `-m recent --set` next to the DNAT (always true); the listing hides which.
      const kind = w(i + 1);
      const name = w(i + 2) ?? "";
      if (kind === "match" && name === "recent") xtRecent = true;
      else conds.push({ k: "unknown", text: `xt ${kind ?? ""} ${name}` });
      i += 3;
      continue;
    }
    if (a === "numgen") {
      // numgen random mod N [offset K] vmap { i : verdict, ... }
      if (w(i + 1) !== "random" || w(i + 2) !== "mod") return fail("only `numgen random mod N` is understood");
      const n = Number(w(i + 3));
      let j = i + 4;
      let offset = 0;
      if (w(j) === "offset") {
        offset = Number(w(j + 1));
        j += 2;
      }
      if (w(j) !== "vmap") return fail("numgen without vmap");
      const elements = lookupElements(tokens[j + 1], table);
      if (typeof elements === "string") return fail(elements);
      const cascade = numgenCascade(n, offset, elements.map((e) => ({ key: e.key[0], value: verdict(e.value ?? "") })));
      if (typeof cascade === "string") return fail(cascade);
      branches = cascade;
      i = j + 2;
      continue;
    }
    if (a === "dnat" || a === "snat") {
      // dnat [ip] to 1.2.3.4:80 | dnat ip addr . port to numgen random mod N map { 0 : 1.2.3.4 . 80, ... }
      let j = i + 1;
      while (w(j) !== undefined && w(j) !== "to") j++;
      if (w(j) !== "to") return fail(`${a} without "to"`);
      if (a === "snat") {
        target = { k: "nat-done", name: "snat" };
        i = tokens.length;
        continue;
      }
      if (w(j + 1) === "numgen") {
        if (w(j + 2) !== "random" || w(j + 3) !== "mod" || w(j + 5) !== "map") return fail("unreadable dnat numgen map");
        const n = Number(w(j + 4));
        const elements = lookupElements(tokens[j + 6], table);
        if (typeof elements === "string") return fail(elements);
        const cascade = numgenCascade(
          n,
          0,
          elements.map((e) => ({ key: e.key[0], value: dnatTarget(e.value ?? "") })),
        );
        if (typeof cascade === "string") return fail(cascade);
        branches = cascade;
        i = j + 7;
        continue;
      }
      const t = dnatTarget(w(j + 1) ?? "");
      if (!t) return fail(`unreadable dnat address "${w(j + 1) ?? ""}"`);
      target = t;
      i = j + 2;
      continue;
    }
    if (a === "iifname" || a === "iif") {
      let j = i + 1;
      let neg = false;
      if (w(j) === "!=" || w(j) === "==") {
        neg = w(j) === "!=";
        j++;
      }
      conds.push({ k: "inIface", name: (w(j) ?? "").replace(/"/g, ""), neg });
      i = j + 1;
      continue;
    }
    const v = verdictAt(tokens, i);
    if (v) {
      target = v.target;
      i = v.next;
      continue;
    }
    if (a === "update" || a === "add" || a === "log" || a === "limit" || a === "notrack") {
      // side effects that do not decide where the connection goes
      i = skipTo(tokens, i + 1);
      continue;
    }
    conds.push({ k: "unknown", text: tokens.slice(i).map((t) => ("word" in t ? t.word : `{ ${t.group} }`)).join(" ") });
    break;
  }

  if (xtRecent) {
    const setsAffinity = target.k === "dnat";
    warnings.push(
      `line ${line}: "xt match recent" hides its option; read as kube-proxy's session affinity ${setsAffinity ? "--set next to the DNAT (always matches)" : "--rcheck on the jump (a new client is in no list: never matches)"}`,
    );
    if (!setsAffinity) conds.push({ k: "never", why: "session affinity (xt match recent, --rcheck) does not match a new client" });
  }
  const base: Omit<Rule, "conds" | "target"> = { line, chain, text };
  if (packets !== undefined) Object.assign(base, { packets, bytes });
  if (comment !== undefined) Object.assign(base, { comment });
  if (!branches) return [{ ...base, conds, target }];
  return branches.map((b) => {
    const r: Rule = { ...base, conds: [...conds, ...b.conds], target: b.target };
    if (b.dispatch) r.dispatch = b.dispatch;
    return r;
  });
}

function dispatchOf(selectors: string[], key: string[]): Rule["dispatch"] {
  const d: NonNullable<Rule["dispatch"]> = {};
  selectors.forEach((sel, i) => {
    const kind = SELECTORS[sel];
    if (kind === "dst") d.dst = key[i];
    else if (kind === "proto") d.protocol = ({ "6": "tcp", "17": "udp", "132": "sctp" } as Record<string, string>)[key[i]] ?? key[i];
    else if (kind === "dport" && /^\d+$/.test(key[i])) d.port = Number(key[i]);
  });
  return d;
}

function skipTo(tokens: Token[], i: number): number {
  while (i < tokens.length) {
    const t = tokens[i];
    if ("word" in t && /^(jump|goto|return|accept|drop|reject|counter|comment)$/.test(t.word)) return i;
    i++;
  }
  return i;
}

function verdictAt(tokens: Token[], i: number): { target: Target; next: number } | undefined {
  const t = tokens[i];
  if (!t || !("word" in t)) return undefined;
  const next = tokens[i + 1];
  const arg = next && "word" in next ? next.word : undefined;
  switch (t.word) {
    case "jump":
    case "goto":
      return arg ? { target: { k: t.word, chain: arg }, next: i + 2 } : undefined;
    case "return":
      return { target: { k: "return" }, next: i + 1 };
    case "accept":
      return { target: { k: "accept" }, next: i + 1 };
    case "drop":
      return { target: { k: "drop" }, next: i + 1 };
    case "reject":
      return { target: { k: "reject" }, next: tokens.length };
    case "masquerade":
    case "redirect":
      return { target: { k: "nat-done", name: t.word }, next: tokens.length };
    default:
      return undefined;
  }
}

function verdict(text: string): Target | undefined {
  const tokens = tokenizeStatement(text.trim());
  if (typeof tokens === "string") return undefined;
  return verdictAt(tokens, 0)?.target;
}

function dnatTarget(text: string): Target | undefined {
  const t = text.trim();
  const concat = /^(\S+)\s*\.\s*(\d+)$/.exec(t);
  const hp = concat ? { ip: concat[1], port: Number(concat[2]) } : parseHostPort(t);
  return hp ? { k: "dnat", ip: hp.ip, port: hp.port } : undefined;
}

function lookupElements(tok: Token | undefined, table: NftTable): NftSet["elements"] | string {
  if (!tok) return "a lookup without a map";
  if ("word" in tok) {
    if (!tok.word.startsWith("@")) return `unreadable map "${tok.word}"`;
    const set = table.sets.get(tok.word.slice(1));
    return set ? set.elements : `map ${tok.word} is not in the dump`;
  }
  const tmp: NftSet = { name: "anonymous map", elements: [] };
  const warnings: string[] = [];
  readElements(tmp, `{ ${tok.group} }`, 0, warnings);
  return warnings.length > 0 ? "unreadable anonymous map" : tmp.elements;
}

/** numgen random mod n: element i (or range a-b) gets its count/n of new connections. */
function numgenCascade(n: number, offset: number, elements: { key: string; value: Target | undefined }[]): { conds: Cond[]; target: Target }[] | string {
  if (!Number.isInteger(n) || n < 1) return "numgen modulus is not a positive integer";
  const items: { lo: number; count: number; target: Target }[] = [];
  for (const e of elements) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(e.key);
    if (!m || !e.value) return `unreadable numgen element "${e.key}"`;
    const lo = Number(m[1]) - offset;
    const hi = (m[2] !== undefined ? Number(m[2]) : Number(m[1])) - offset;
    const count = Math.max(0, Math.min(hi, n - 1) - Math.max(lo, 0) + 1);
    items.push({ lo, count, target: e.value });
  }
  items.sort((a, b) => a.lo - b.lo);
  const out: { conds: Cond[]; target: Target }[] = [];
  let remaining = n;
  for (const it of items) {
    if (it.count === 0) continue;
    out.push({ conds: it.count >= remaining ? [] : [{ k: "probability", p: it.count / remaining }], target: it.target });
    remaining -= it.count;
  }
  return out;
}

function keyConds(selectors: string[], key: string[]): Cond[] | undefined {
  if (selectors.length !== key.length) return undefined;
  const out: Cond[] = [];
  for (let i = 0; i < selectors.length; i++) {
    const c = valueCond(SELECTORS[selectors[i]], [key[i]], false);
    if (!c) return undefined;
    out.push(c);
  }
  return out;
}

function valueCond(kind: "dst" | "src" | "proto" | "dport" | "sport", values: string[], neg: boolean): Cond | undefined {
  switch (kind) {
    case "dst":
    case "src": {
      const cidrs = values.map((v) => parseCidr(v));
      if (cidrs.some((c) => c === undefined)) return undefined;
      return { k: kind, cidrs: cidrs as NonNullable<(typeof cidrs)[number]>[], neg };
    }
    case "proto":
      return { k: "proto", protos: values.map((v) => ({ "6": "tcp", "17": "udp", "132": "sctp" })[v] ?? v), neg };
    case "dport": {
      const ranges = parsePortRanges(values.join(","));
      return ranges ? { k: "dport", ranges, neg } : undefined;
    }
    case "sport":
      return { k: "unknown", text: `sport ${values.join(",")}` };
  }
}
