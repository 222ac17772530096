// nft's text structure: tables, chains (with their hook), sets and maps with their elements, and
// the raw rule statements, from `nft list ...` blocks or the `add ...` script form. Rules are
// parsed later (nft-rule.ts), once every set and map is known.
import type { Chain } from "./graph";
import { clip } from "./parse-save";
import { ELISION } from "./paste";

const BLOCK_OPENER = /^(?:table\s+\S+|chain|set|map|flowtable|counter|quota|limit|ct\s+\S+|secmark|synproxy)\s+\S+\s*\{$/;

export interface NftSet {
  name: string;
  /** each element: key parts ("10.0.0.1", "tcp", "80") and, for maps, the verdict/value text */
  elements: { key: string[]; value?: string; comment?: string; line: number }[];
}

export interface NftTable {
  family: string;
  name: string;
  sets: Map<string, NftSet>;
  chains: Map<string, { chain: Chain; hook?: { type: string; hook: string; priority: number } }>;
  /** raw statements to be parsed once every set and map is known */
  statements: { chain: string; text: string; line: number }[];
  /** problems inside this table (reported only for the table that is traced) */
  warnings: string[];
  /** chains with a "..." among their rules: not all their rules are shown */
  partialChains: Set<string>;
}

export function readStructure(text: string, warnings: string[]): NftTable[] {
  const tables: NftTable[] = [];
  const lines = text.split("\n");
  const getTable = (family: string, name: string): NftTable => {
    let t = tables.find((x) => x.family === family && x.name === name);
    if (!t) {
      t = { family, name, sets: new Map(), chains: new Map(), statements: [], warnings: [], partialChains: new Set() };
      tables.push(t);
    }
    return t;
  };
  const addChain = (t: NftTable, name: string) => {
    if (!t.chains.has(name)) t.chains.set(name, { chain: { name, builtin: false, rules: [] } });
    return t.chains.get(name)!;
  };
  const addSet = (t: NftTable, name: string) => {
    if (!t.sets.has(name)) t.sets.set(name, { name, elements: [] });
    return t.sets.get(name)!;
  };

  const elided: { table: NftTable; chain: string }[] = [];
  let table: NftTable | undefined;
  let block: { kind: "chain" | "set" | "other"; name: string } | undefined;
  let i = 0;
  while (i < lines.length) {
    const lineNo = i + 1;
    // a statement continues while its braces are open ("elements = { a,\n b }")
    let stmt = stripComment(lines[i]).trim();
    i++;
    let elidedInside = false;
    while (!BLOCK_OPENER.test(stmt) && braceBalance(stmt) > 0 && i < lines.length && !/^\s*(table|chain|set|map)\s/.test(lines[i])) {
      const more = stripComment(lines[i]).trim();
      // "..." inside an elements list: elements were left out there; the ones around it still read
      if (more === ELISION) elidedInside = true;
      else stmt += " " + more;
      i++;
    }
    if (elidedInside && table && block?.kind === "set") {
      table.warnings.push(`line ${lineNo}: elements of ${block.name} were left out ("..."); Services only those elements name are not in the trace`);
    }
    if (stmt === "") continue;
    if (stmt === ELISION) {
      // left-out rules (the paste reader warned): the chain may hold more than it shows
      if (table && block?.kind === "chain") elided.push({ table, chain: block.name });
      continue;
    }

    // the script form: add table|chain|set|map|rule|element <family> <table> ...
    const script = /^(?:add|create|insert)\s+(table|chain|set|map|rule|element)\s+(ip6?|inet|arp|bridge|netdev)\s+(\S+)\s*(.*)$/.exec(stmt);
    if (script) {
      const [, what, family, tname, rest] = script;
      const t = getTable(family, tname);
      if (what === "table") continue;
      const nameMatch = /^(\S+)\s*(.*)$/.exec(rest);
      if (!nameMatch) {
        warnings.push(`line ${lineNo}: unreadable: ${clip(stmt)}`);
        continue;
      }
      const [, name, body] = nameMatch;
      if (what === "chain") readChainSpec(addChain(t, name), body.replace(/^\{|\}$/g, ""));
      else if (what === "set" || what === "map") addSet(t, name);
      else if (what === "rule") {
        addChain(t, name);
        t.statements.push({ chain: name, text: body, line: lineNo });
      } else if (what === "element") readElements(addSet(t, name), body, lineNo, t.warnings);
      continue;
    }

    if (stmt === "}") {
      if (block) block = undefined;
      else table = undefined;
      continue;
    }
    const tableOpen = /^table\s+(\S+)\s+(\S+)\s*\{$/.exec(stmt);
    if (tableOpen) {
      table = getTable(tableOpen[1], tableOpen[2]);
      block = undefined;
      continue;
    }
    if (!table && /^(?:chain|set|map)\s+\S+\s*\{/.test(stmt)) {
      // a fragment pasted without its "table ... {" line: the chain names say whose table it is
      table = fragmentTable(stmt, lineNo, getTable, warnings);
    }
    if (!table) {
      warnings.push(`line ${lineNo}: text outside a "table ... { }" block: ${clip(stmt)}`);
      continue;
    }
    const open = /^(chain|set|map|flowtable|counter|quota|limit|ct\s+\S+|secmark|synproxy)\s+(\S+)\s*\{(.*)$/.exec(stmt);
    if (open && !block) {
      const kind = open[1] === "chain" ? "chain" : open[1] === "set" || open[1] === "map" ? "set" : "other";
      block = { kind, name: open[2] };
      if (kind === "chain") addChain(table, open[2]);
      if (kind === "set") addSet(table, open[2]);
      // a one-line block: "set x { type ipv4_addr; }"
      if (open[3].trim().endsWith("}")) {
        if (kind === "set") readSetLine(addSet(table, open[2]), open[3].trim().slice(0, -1), lineNo, table.warnings);
        block = undefined;
      }
      continue;
    }
    if (!block) {
      if (/^(comment|flags)\s/.test(stmt)) continue; // table comment/flags
      table.warnings.push(`line ${lineNo}: unreadable: ${clip(stmt)}`);
      continue;
    }
    if (block.kind === "other") continue;
    if (block.kind === "set") {
      readSetLine(addSet(table, block.name), stmt, lineNo, table.warnings);
      continue;
    }
    // inside a chain: its type/policy/comment, or a rule
    if (/^type\s/.test(stmt) || /^policy\s/.test(stmt)) {
      readChainSpec(addChain(table, block.name), stmt);
      continue;
    }
    if (/^comment\s+"[^"]*"$/.test(stmt) || /^devices\s/.test(stmt)) continue;
    table.statements.push({ chain: block.name, text: stmt, line: lineNo });
  }
  for (const e of elided) e.table.partialChains.add(e.chain);
  return tables;
}

/**
 * The table a chain (or set, map) with no `table` line before it belongs to: KUBE-* chains are kube-proxy's
 * iptables mode seen through iptables-nft (`table ip nat`), any other name kube-proxy's nftables
 * mode (`table ip kube-proxy`: services, service-HASH-..., endpoint-HASH-...).
 */
function fragmentTable(stmt: string, lineNo: number, getTable: (family: string, name: string) => NftTable, warnings: string[]): NftTable {
  const name = /^(?:chain|set|map)\s+(\S+)/.exec(stmt)?.[1] ?? "";
  const [family, tname] = name.startsWith("KUBE-") ? ["ip", "nat"] : ["ip", "kube-proxy"];
  warnings.push(
    `line ${lineNo}: chains or maps with no "table ... {" line before them; read as \`table ${family} ${tname}\`` +
      (tname === "nat" ? " (iptables-nft's, by the KUBE-* chain names)" : " (kube-proxy's nftables mode, by the chain names)"),
  );
  return getTable(family, tname);
}

function stripComment(line: string): string {
  // nft -a prints "# handle N"; `nft list ruleset` may print "# Warning: ..." lines
  const hash = line.indexOf("#");
  if (hash < 0) return line;
  let inQuote = false;
  for (let i = 0; i < hash; i++) if (line[i] === '"') inQuote = !inQuote;
  return inQuote ? line : line.slice(0, hash);
}

function braceBalance(s: string): number {
  let n = 0;
  let inQuote = false;
  for (const ch of s) {
    if (ch === '"') inQuote = !inQuote;
    else if (!inQuote && ch === "{") n++;
    else if (!inQuote && ch === "}") n--;
  }
  return n;
}

function readChainSpec(c: { chain: Chain; hook?: { type: string; hook: string; priority: number } }, spec: string): void {
  const m = /type\s+(\w+)\s+hook\s+(\w+)(?:\s+device\s+\S+)?\s+priority\s+([^;]+)/.exec(spec);
  if (!m) return;
  const prio = m[3].trim().replace(/\s+/g, "");
  const named: Record<string, number> = { dstnat: -100, srcnat: 100, filter: 0, raw: -300, mangle: -150, security: 50 };
  const pm = /^([a-z]+)?([+-]\d+)?$/.exec(prio) ?? /^(-?\d+)$/.exec(prio);
  let priority = Number(prio);
  if (Number.isNaN(priority) && pm) priority = (named[pm[1] ?? ""] ?? 0) + Number(pm[2] ?? 0);
  c.hook = { type: m[1], hook: m[2], priority: Number.isNaN(priority) ? 0 : priority };
  c.chain.builtin = true;
}

function readSetLine(set: NftSet, stmt: string, line: number, warnings: string[]): void {
  const m = /elements\s*=\s*(\{.*\})/.exec(stmt);
  if (m) readElements(set, m[1], line, warnings);
}

/** "{ a . b : goto x, c comment "..." : drop }" -> elements. */
export function readElements(set: NftSet, body: string, line: number, warnings: string[]): void {
  const inner = body.trim().replace(/^\{/, "").replace(/\}$/, "");
  for (const raw of splitTopLevel(inner, ",")) {
    let part = raw.trim();
    if (part === "") continue;
    let comment: string | undefined;
    const cm = /\s+comment\s+"([^"]*)"/.exec(part);
    if (cm) {
      comment = cm[1];
      part = part.slice(0, cm.index) + part.slice(cm.index + cm[0].length);
    }
    part = part.replace(/\s+(?:timeout|expires)\s+\S+/g, "").replace(/\s+counter packets \d+ bytes \d+/, "");
    const colon = part.indexOf(" : ");
    const keyText = colon >= 0 ? part.slice(0, colon) : part;
    const value = colon >= 0 ? part.slice(colon + 3).trim() : undefined;
    const key = keyText.split(" . ").map((k) => k.trim());
    if (key.some((k) => k === "")) {
      warnings.push(`line ${line}: unreadable element "${clip(raw.trim())}" of ${set.name}`);
      continue;
    }
    set.elements.push({ key, value, comment, line });
  }
}

export function splitTopLevel(s: string, sep: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let inQuote = false;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (ch === '"') inQuote = !inQuote;
    else if (inQuote) continue;
    else if (ch === "{") depth++;
    else if (ch === "}") depth--;
    else if (ch === sep && depth === 0) {
      out.push(s.slice(start, i));
      start = i + 1;
    }
  }
  out.push(s.slice(start));
  return out;
}
