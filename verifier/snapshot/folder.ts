// A snapshot folder (design.md, "contract: snapshot") read into memory: the Compute and Kubernetes
// API objects it holds, recognized by content (Compute `kind: compute#...`, Kubernetes apiVersion +
// kind), never by file name, except get-health documents without a `backendService` field, which
// name their backend service by the file's name. Node outputs live under nodes/<node>/. Every file
// that cannot be read, and every object that cannot be used, is a warning naming the file; the
// rest is still read. Pure apart from reading the files: no network.
//
// A folder may come from anyone, so it is read inside itself only and within bounds: a symbolic
// link is followed only when it resolves inside the folder (a link out, and a link back to a folder
// already read, are skipped with a warning); only regular files are read, each at most
// MAX_FILE_BYTES; text must be UTF-8 (with or without a BOM) or UTF-16 with a BOM; JSON and YAML
// nesting, and YAML aliases, are bounded; a file's content is never quoted beyond a short, escaped
// excerpt (readText, parseJson, excerpt below).
import { lstatSync, readdirSync, readFileSync, realpathSync, statSync, type Stats } from "node:fs";
import { join, relative, sep } from "node:path";
import * as yaml from "js-yaml";
import { redactText } from "../redact";

/** Per-file size cap (bytes): far above any API answer or node dump of a real cluster, far below what would exhaust memory. */
export const MAX_FILE_BYTES = 64 * 1024 * 1024;
/** Nesting cap for JSON and YAML values (Kubernetes objects nest about 15 deep). */
export const MAX_NESTING = 100;
/** Cap on the values one YAML document expands to through aliases (gcloud and kubectl write none). */
export const MAX_EXPANDED_VALUES = 1_000_000;

/** One Compute resource with the REST location it answers at. */
export interface ComputeEntry {
  /** "projects/<p>/(global|regions/<r>|zones/<z>)/<collection>/<name>" (no API version, so v1 and beta links meet) */
  key: string;
  project: string;
  /** "global", "regions/<r>" or "zones/<z>" */
  scope: string;
  collection: string;
  name: string;
  object: Record<string, unknown>;
  file: string;
}

/** A `backendServices.getHealth` answer for one backend group (gcloud get-health's document shape). */
export interface HealthEntry {
  /** the backend service's name; undefined until resolved from the file name */
  backendService?: string;
  /** the group link the health is for (`backend`) */
  group: string;
  /** the API's compute#backendServiceGroupHealth body */
  health: Record<string, unknown>;
  file: string;
}

/** An `instanceGroups.listInstances` answer; its selfLink names the group. */
export interface MembersEntry {
  /** "projects/<p>/zones/<z>/instanceGroups/<name>" */
  groupKey: string;
  items: unknown[];
  file: string;
}

/** A NEG's endpoints (listNetworkEndpoints answer or gcloud list-network-endpoints output), named by a field or the file's name. */
export interface EndpointsEntry {
  /** "projects/<p>/zones/<z>/networkEndpointGroups/<name>"; undefined until resolved from the file name */
  negKey?: string;
  /** compute#networkEndpointWithHealthStatus items */
  items: unknown[];
  file: string;
}

export interface KubeEntry {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
  object: Record<string, unknown>;
  file: string;
}

export interface SnapshotWarning {
  /** path relative to the folder ("" for the folder itself) */
  file: string;
  message: string;
}

export interface SnapshotFolder {
  dir: string;
  compute: ComputeEntry[];
  health: HealthEntry[];
  members: MembersEntry[];
  /** NEG endpoints (absent in folders read before NEGs were recorded) */
  endpoints?: EndpointsEntry[];
  kube: KubeEntry[];
  /**
   * node name -> file name -> a reader of its text, from nodes/<node>/<file>. Read when the node is
   * judged, not with the folder: a big cluster's dumps (tens of MB per node) never sit in memory together.
   */
  nodes: Map<string, Map<string, () => string>>;
  /** snapshot.json, when present and readable */
  meta?: SnapshotMeta;
  /** the project most Compute objects belong to (or snapshot.json's) */
  project?: string;
  warnings: SnapshotWarning[];
  /** files whose objects were set aside as another project's or cluster's (crossChecks) */
  otherClusterFiles?: Set<string>;
}

/** What `npm run snapshot` writes as snapshot.json (optional in a hand-made folder). */
export interface SnapshotMeta {
  format: "gke-ingress-path snapshot";
  createdAt: string;
  project?: string;
  location?: string;
  cluster?: string;
  /** "namespace/name" */
  ingress?: string;
  service?: string;
  /** where the answers came from: the API endpoints (no credentials) */
  from?: { compute?: string; kubernetes?: string };
  /** every API request made: method, path (no host, no query secrets), status, the file written */
  reads: { api: "compute" | "kubernetes"; method: string; path: string; status: number; file?: string }[];
  /** what could not be read, and why */
  failed: { what: string; message: string }[];
  /**
   * what was deliberately not saved, never with its value: Secrets, fields the verifier does not
   * read (an instance's metadata, a pod's env), values that look like credentials
   */
  withheld: { object: string; fields: string[]; reason: string }[];
  nodes: { name: string; files: string[]; problem?: string }[];
  /** what was saved: the program's stack (its SSH key reads the nodes) or a user's Ingress (no SSH) */
  source?: "stack" | "ingress";
}

/** The node output files the folder may hold per node (README, "Verify an Ingress you already have"). */
export const NODE_FILES = {
  "iptables-save.txt": "sudo iptables-save",
  "iptables-legacy-save.txt": "sudo iptables-legacy-save",
  "iptables-nft-save.txt": "sudo iptables-nft-save",
  "nft-list-table-ip-kube-proxy.txt": "sudo nft list table ip kube-proxy",
  "ip-o-addr-show.txt": "ip -o addr show",
  "ss-Hltnp.txt": "sudo ss -Hltnp",
} as const;

export type NodeFileName = keyof typeof NODE_FILES;

const COMPUTE_LINK = /\/compute\/(?:v1|beta|alpha)\/(projects\/([^/]+)\/(global|regions\/[^/]+|zones\/[^/]+)\/([A-Za-z]+)\/([^/]+))$/;

/** "https://.../compute/v1/projects/p/zones/z/instanceGroups/g" -> its key parts, or undefined. */
export function parseComputeLink(link: unknown): { key: string; project: string; scope: string; collection: string; name: string } | undefined {
  if (typeof link !== "string") return undefined;
  const m = COMPUTE_LINK.exec(link.replace(/\/+$/, ""));
  if (!m) return undefined;
  return { key: m[1]!, project: m[2]!, scope: m[3]!, collection: m[4]!, name: m[5]! };
}

/** Compute kinds a hand-made object may lack a selfLink for: kind -> collection and where it lives. */
const KIND_COLLECTION: Record<string, string> = {
  "compute#forwardingRule": "forwardingRules",
  "compute#targetHttpProxy": "targetHttpProxies",
  "compute#targetHttpsProxy": "targetHttpsProxies",
  "compute#urlMap": "urlMaps",
  "compute#backendService": "backendServices",
  "compute#healthCheck": "healthChecks",
  "compute#instanceGroup": "instanceGroups",
  "compute#networkEndpointGroup": "networkEndpointGroups",
  "compute#instance": "instances",
  "compute#firewall": "firewalls",
  "compute#sslCertificate": "sslCertificates",
};

const lastSegment = (link: string) => link.slice(link.lastIndexOf("/") + 1);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** A short, escaped excerpt of file content for a message: at most `max` characters, control characters escaped, credentials redacted. */
export function excerpt(text: string, max = 32): string {
  const cut = text.length > max ? `${text.slice(0, max)}…` : text;
  return JSON.stringify(redactText(cut)).replace(/[\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** A file found in the folder: its path relative to the folder ("/" separators) and where to read it. */
interface FoundFile {
  file: string;
  /** the real path (a link inside the folder resolved) */
  real: string;
  size: number;
}

/**
 * Every regular file under dir, sorted. Symbolic links are followed only when they resolve inside
 * the folder; a link out of it, a loop and anything that is not a regular file or folder (a FIFO
 * would block the read) are skipped with a warning. Never throws for what is inside.
 */
function walk(dir: string, warnings: SnapshotWarning[]): FoundFile[] {
  const out: FoundFile[] = [];
  const root = realpathSync(dir);
  const inside = (real: string) => real === root || real.startsWith(root + sep);
  // folders read so far, and those being read (a link to one of these is a loop)
  const seen = new Set<string>();
  const open = new Set<string>();
  const id = (st: Stats) => `${st.dev}:${st.ino}`;
  const rel = (full: string) => relative(dir, full).split(sep).join("/");
  const visit = (path: string, real: string) => {
    let names: string[];
    try {
      names = readdirSync(real).sort();
    } catch (error) {
      warnings.push({ file: rel(path), message: `cannot list the folder (${(error as NodeJS.ErrnoException).code ?? String(error)})` });
      return;
    }
    for (const name of names) {
      if (name.startsWith(".")) continue;
      const full = join(path, name);
      const file = rel(full);
      let target = join(real, name);
      let st: Stats | undefined;
      try {
        st = lstatSync(target);
        if (st.isSymbolicLink()) {
          target = realpathSync(target);
          if (!inside(target)) {
            warnings.push({ file, message: "a symbolic link that leads outside the folder; not followed (a snapshot folder is read inside itself only): copy the file into the folder instead" });
            continue;
          }
          st = statSync(target);
        }
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        warnings.push({ file, message: code === "ELOOP" ? "a symbolic link loop; skipped" : code === "ENOENT" ? "a symbolic link to nothing (dangling); skipped" : `cannot be read (${code ?? String(error)}); skipped` });
        continue;
      }
      if (st.isDirectory()) {
        if (open.has(id(st))) {
          warnings.push({ file, message: "a link back to a folder that holds it (a loop); skipped" });
          continue;
        }
        // a second way into a folder already read (a link inside the folder): read once
        if (seen.has(id(st))) continue;
        seen.add(id(st));
        open.add(id(st));
        visit(full, target);
        open.delete(id(st));
      } else if (st.isFile()) out.push({ file, real: target, size: st.size });
      else warnings.push({ file, message: "not a regular file (a device, FIFO or socket); not read" });
    }
  };
  seen.add(id(statSync(root)));
  open.add(id(statSync(root)));
  visit(dir, root);
  return out.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
}

/**
 * The text of a file, or undefined with a warning naming the file: over MAX_FILE_BYTES, or not
 * text in an encoding gcloud, kubectl or a shell redirect writes. UTF-8 with or without a BOM and
 * UTF-16 LE/BE with a BOM (PowerShell's `>`) are read; UTF-16 without a BOM, Latin-1 and other
 * non-UTF-8 text, and binary files are refused by name with the command that converts them.
 */
function readText(found: FoundFile, warnings: SnapshotWarning[]): string | undefined {
  const { file } = found;
  if (found.size > MAX_FILE_BYTES) {
    warnings.push({ file, message: `${found.size} bytes, over the ${MAX_FILE_BYTES / 1024 / 1024} MiB a snapshot file may have; not read (API answers and node dumps are far smaller: save one object kind per file)` });
    return undefined;
  }
  let bytes: Buffer;
  try {
    bytes = readFileSync(found.real);
  } catch (error) {
    warnings.push({ file, message: `cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)}); skipped` });
    return undefined;
  }
  const decode = (encoding: "utf-8" | "utf-16le" | "utf-16be", data: Uint8Array, name: string): string | undefined => {
    try {
      return new TextDecoder(encoding, { fatal: true }).decode(data);
    } catch {
      warnings.push({ file, message: `starts with a ${name} byte-order mark but is not valid ${name}; not read: save the output again` });
      return undefined;
    }
  };
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return decode("utf-8", bytes.subarray(3), "UTF-8");
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return decode("utf-16le", bytes.subarray(2), "UTF-16LE");
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return decode("utf-16be", bytes.subarray(2), "UTF-16BE");
  const nul = bytes.indexOf(0);
  if (nul >= 0) {
    // ASCII text in UTF-16 has a NUL in every other byte
    const sample = bytes.subarray(0, 4096);
    let evenNul = 0;
    let oddNul = 0;
    sample.forEach((b, i) => b === 0 && (i % 2 === 0 ? evenNul++ : oddNul++));
    const half = sample.length / 2;
    if (oddNul > half * 0.4 || evenNul > half * 0.4) {
      const from = oddNul > evenNul ? "UTF-16LE" : "UTF-16BE";
      warnings.push({ file, message: `looks like ${from} text without a byte-order mark; not read: convert it to UTF-8 (iconv -f ${from} -t UTF-8 ${file} > ${file}.utf8, then replace the file)` });
    } else {
      warnings.push({ file, message: `binary, not text (a NUL byte at offset ${nul}); not read: the folder takes API objects as JSON/YAML and node outputs as text` });
    }
    return undefined;
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    // control bytes other than tab/newline/CR mean binary; else 8-bit text such as Latin-1
    const control = bytes.subarray(0, 65536).some((b) => b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d);
    warnings.push({
      file,
      message: control
        ? "binary, not UTF-8 text; not read: the folder takes API objects as JSON/YAML and node outputs as text"
        : `not UTF-8 (8-bit text such as Latin-1 / Windows-1252); not read: convert it (iconv -f latin1 -t utf-8 ${file} > ${file}.utf8, then replace the file)`,
    });
    return undefined;
  }
}

/** The deepest nesting of [ and { outside strings (a linear scan, so a 100k-deep file is refused before any parser recurses). */
function nestingDepth(text: string, limit: number): number {
  let depth = 0;
  let max = 0;
  let quote = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === "\\" && quote === '"') i++;
      else if (c === quote) quote = "";
      continue;
    }
    if (c === '"') quote = c;
    else if (c === "[" || c === "{") {
      if (++depth > max && (max = depth) > limit) return max;
    } else if (c === "]" || c === "}") depth = Math.max(0, depth - 1);
  }
  return max;
}

/** JSON.parse whose error names the place with a short escaped excerpt, never the engine's quote of the content. */
function parseJson(text: string): { value?: unknown; error?: string } {
  if (nestingDepth(text, MAX_NESTING) > MAX_NESTING) return { error: `nested deeper than ${MAX_NESTING} levels; not read (API objects nest far less)` };
  try {
    return { value: JSON.parse(text) };
  } catch (error) {
    const at = /position (\d+)/.exec((error as Error).message)?.[1];
    if (at === undefined) return { error: `not valid JSON (${text.trim() === "" ? "empty" : `it ends early or starts with ${excerpt(text.trimStart(), 16)}`})` };
    const pos = Number(at);
    const before = text.slice(0, pos);
    const line = before.split("\n").length;
    const column = pos - before.lastIndexOf("\n");
    return { error: `not valid JSON (line ${line}, column ${column}, at ${excerpt(text.slice(pos), 16)})` };
  }
}

/**
 * How many values a parsed YAML document stands for once its aliases are expanded (shared
 * values counted once per use, without expanding them); "cycle" for an alias inside itself.
 */
function expandedValues(root: unknown, limit: number): number | "cycle" {
  const memo = new Map<object, number>();
  const active = new Set<object>();
  const size = (v: unknown): number => {
    if (typeof v !== "object" || v === null) return 1;
    const known = memo.get(v);
    if (known !== undefined) return known;
    if (active.has(v)) throw new RangeError("cycle");
    active.add(v);
    let n = 1;
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      n += size(child);
      if (n > limit) break;
    }
    active.delete(v);
    memo.set(v, n);
    return n;
  };
  try {
    return size(root);
  } catch {
    return "cycle";
  }
}

/** The documents of a file: JSON (one value) or YAML (one or more documents); unreadable parts are warnings. */
function documents(file: string, text: string, warnings: SnapshotWarning[]): unknown[] {
  if (/\.json$/i.test(file)) {
    const parsed = parseJson(text);
    if (parsed.error) {
      warnings.push({ file, message: `${parsed.error}; fix or remove the file` });
      return [];
    }
    return [parsed.value];
  }
  if (nestingDepth(text, MAX_NESTING) > MAX_NESTING) {
    warnings.push({ file, message: `nested deeper than ${MAX_NESTING} levels; not read (API objects nest far less)` });
    return [];
  }
  // Each YAML document alone, so a cut or broken one does not hide the others.
  const docs: unknown[] = [];
  const parts = text.split(/^---[ \t]*(?:#.*)?$/m);
  let line = 1;
  // gcloud and kubectl end what they print with a newline: a file that does not was cut mid-line,
  // and its last document must not be read as whole (a cut name would be taken for a real one).
  const cutAtEnd = text.length > 0 && !text.endsWith("\n");
  parts.forEach((part, i) => {
    if (cutAtEnd && i === parts.length - 1 && part.trim() !== "") {
      warnings.push({ file, message: `line ${line + part.split("\n").length - 1}: the file ends mid-line, so its last document is cut; it was skipped (the file's other documents are read); save the output again` });
      return;
    }
    try {
      const doc = yaml.load(part, { filename: file, maxDepth: MAX_NESTING } as yaml.LoadOptions);
      // Aliases share one value, so parsing is cheap; whatever walks the value later expands them.
      const values = /[&*][^\s]/.test(part) ? expandedValues(doc, Math.max(MAX_EXPANDED_VALUES, part.length)) : 0;
      if (values === "cycle" || values > Math.max(MAX_EXPANDED_VALUES, part.length)) {
        warnings.push({ file, message: `YAML document ${i + 1}: ${values === "cycle" ? "an alias refers to the value that holds it" : `its aliases expand to over ${Math.max(MAX_EXPANDED_VALUES, part.length)} values (an alias bomb)`}; not read (gcloud and kubectl write no aliases)` });
      } else if (doc !== undefined && doc !== null) docs.push(doc);
    } catch (error) {
      const mark = (error as { mark?: { line?: number } }).mark;
      const at = mark?.line !== undefined ? `line ${line + mark.line}` : `document ${i + 1}`;
      // the parser's reason only: its full message quotes the lines around the error
      const reason = (error as { reason?: string }).reason ?? (error instanceof RangeError ? "too deeply nested" : (error as Error).name);
      warnings.push({ file, message: `YAML ${at}: ${reason} (cut or broken document skipped; the file's other documents are read)` });
    }
    line += part.split("\n").length;
  });
  return docs;
}

/** Adds one parsed value (object, array, List) to the folder; returns how many objects it held. */
function addValue(folder: SnapshotFolder, file: string, value: unknown, where: string): number {
  if (Array.isArray(value)) return value.reduce<number>((n, v, i) => n + addValue(folder, file, v, `${where}[${i}]`), 0);
  if (!isObject(value)) {
    folder.warnings.push({ file, message: `${where || "the file"} is not an API object (a ${value === null ? "null" : typeof value}); the folder takes Compute and Kubernetes objects as the APIs, gcloud --format=json|yaml and kubectl -o json|yaml print them` });
    return 0;
  }
  const kind = value.kind;
  if (addEndpoints(folder, file, value)) return 1;
  // gcloud get-health: {backend, status: {healthStatus, kind: compute#backendServiceGroupHealth}}
  if (isObject(value.status) && value.status.kind === "compute#backendServiceGroupHealth" && typeof value.backend === "string") {
    folder.health.push({ backendService: typeof value.backendService === "string" ? value.backendService : undefined, group: value.backend, health: value.status, file });
    return 1;
  }
  if (typeof kind === "string" && kind.startsWith("compute#")) return addCompute(folder, file, value, kind, where);
  if (typeof kind === "string" && typeof value.apiVersion === "string") return addKube(folder, file, value, value.apiVersion, kind, where);
  const keys = Object.keys(value).slice(0, 5).map((k) => excerpt(k, 24)).join(", ");
  folder.warnings.push({
    file,
    message: `${where || "the file"} is not an API object (no compute# kind, no apiVersion + kind; keys: ${keys || "none"}); it was not read`,
  });
  return 0;
}

function addCompute(folder: SnapshotFolder, file: string, value: Record<string, unknown>, kind: string, where: string): number {
  if (kind === "compute#instanceGroupsListInstances") {
    const link = typeof value.selfLink === "string" ? value.selfLink.replace(/\/listInstances$/, "") : "";
    const group = parseComputeLink(link);
    if (!group || group.collection !== "instanceGroups") {
      folder.warnings.push({ file, message: `${where || "the file"}: a listInstances answer whose selfLink does not name its instance group (…/zones/<zone>/instanceGroups/<name>/listInstances); it was not read` });
      return 0;
    }
    folder.members.push({ groupKey: group.key, items: Array.isArray(value.items) ? value.items : [], file });
    return 1;
  }
  if (kind === "compute#backendServiceGroupHealth") {
    folder.warnings.push({ file, message: `${where || "the file"}: a getHealth answer without the group it is for; save gcloud's get-health output ({backend, status}) instead` });
    return 0;
  }
  // Lists ({items: [...]}) and aggregated lists ({items: {"zones/z": {instanceGroups: [...]}}})
  if (/List$/.test(kind) && value.items !== undefined) {
    if (Array.isArray(value.items)) return addValue(folder, file, value.items, `${where}items`);
    if (isObject(value.items)) {
      let n = 0;
      for (const [scope, entry] of Object.entries(value.items)) {
        if (!isObject(entry)) continue;
        for (const list of Object.values(entry)) if (Array.isArray(list)) n += addValue(folder, file, list, `${where}items["${scope}"]`);
      }
      return n;
    }
  }
  const name = typeof value.name === "string" ? value.name : undefined;
  let link = parseComputeLink(value.selfLink);
  if (!link && name && KIND_COLLECTION[kind]) {
    // hand-made objects without selfLink: zone / region fields say where they live
    const zone = typeof value.zone === "string" ? lastSegment(value.zone) : undefined;
    const region = typeof value.region === "string" ? lastSegment(value.region) : undefined;
    const scope = zone ? `zones/${zone}` : region ? `regions/${region}` : "global";
    const project = folder.project ?? "";
    link = { key: `projects/${project}/${scope}/${KIND_COLLECTION[kind]}/${name}`, project, scope, collection: KIND_COLLECTION[kind]!, name };
  }
  if (!link) {
    folder.warnings.push({ file, message: `${where || "the file"}: ${kind}${name ? ` ${name}` : ""} has no selfLink saying where it lives; it was not read` });
    return 0;
  }
  folder.compute.push({ ...link, object: value, file });
  return 1;
}

function addKube(folder: SnapshotFolder, file: string, value: Record<string, unknown>, apiVersion: string, kind: string, where: string): number {
  if (kind === "List" || (/List$/.test(kind) && Array.isArray(value.items))) {
    const itemKind = kind === "List" ? undefined : kind.slice(0, -"List".length);
    const items = Array.isArray(value.items) ? value.items : [];
    // typed lists (PodList) leave apiVersion / kind off their items
    const filled = items.map((item) => (isObject(item) && itemKind && item.kind === undefined ? { apiVersion, kind: itemKind, ...item } : item));
    return addValue(folder, file, filled, `${where}items`);
  }
  if (kind === "Secret") {
    folder.warnings.push({ file, message: `${where || "the file"}: a Secret; secrets are never read (the verifier needs none), and it was ignored; remove it from the folder` });
    return 0;
  }
  const metadata = isObject(value.metadata) ? value.metadata : {};
  const name = typeof metadata.name === "string" ? metadata.name : "";
  if (!name) {
    folder.warnings.push({ file, message: `${where || "the file"}: ${kind} without metadata.name; it was not read` });
    return 0;
  }
  folder.kube.push({ apiVersion, kind, name, namespace: typeof metadata.namespace === "string" ? metadata.namespace : undefined, object: value, file });
  return 1;
}

/**
 * NEG endpoints: the API's compute#networkEndpointGroupsListNetworkEndpoints answer, or one item of
 * gcloud's list-network-endpoints output ({networkEndpoint: {ipAddress, port, instance}, healths}).
 * The NEG is named by a `networkEndpointGroup` link (on the list or the item) or, resolved later,
 * by the file's name. False when the value is neither.
 */
function addEndpoints(folder: SnapshotFolder, file: string, value: Record<string, unknown>): boolean {
  const isList = value.kind === "compute#networkEndpointGroupsListNetworkEndpoints";
  const isItem = value.kind === undefined && value.apiVersion === undefined && isObject(value.networkEndpoint);
  if (!isList && !isItem) return false;
  const neg = parseComputeLink(value.networkEndpointGroup);
  const items = isList ? (Array.isArray(value.items) ? value.items : []) : [value];
  const entries = (folder.endpoints ??= []);
  const negKey = neg?.collection === "networkEndpointGroups" ? neg.key : undefined;
  const same = entries.find((e) => e.file === file && e.negKey === negKey);
  if (same && isItem) same.items.push(...items);
  else entries.push({ ...(negKey ? { negKey } : {}), items: [...items], file });
  return true;
}

/** The file's name holds the NEG's name, and its zone where two zones share the name (hand-made list-network-endpoints files). */
function resolveEndpointOwners(folder: SnapshotFolder): void {
  const negs = folder.compute.filter((c) => c.collection === "networkEndpointGroups");
  for (const e of folder.endpoints ?? []) {
    if (e.negKey) continue;
    const base = e.file.slice(e.file.lastIndexOf("/") + 1);
    const named = negs.filter((n) => base.includes(n.name));
    const longest = Math.max(0, ...named.map((n) => n.name.length));
    const candidates = named.filter((n) => n.name.length === longest);
    const zoned = candidates.length > 1 ? candidates.filter((n) => base.includes(n.scope.replace(/^zones\//, ""))) : candidates;
    if (zoned.length === 1) e.negKey = zoned[0]!.key;
    else {
      folder.warnings.push({
        file: e.file,
        message:
          candidates.length > 1
            ? `network endpoints whose file name matches NEG ${candidates[0]!.name} in several zones (${candidates.map((c) => c.scope).join(", ")}): put the zone in the file name too, or add a networkEndpointGroup field; it was not read`
            : "network endpoints that name no NEG: add a networkEndpointGroup field (the NEG's link), or name the file after the NEG (e.g. <neg>.<zone>.endpoints.json) next to its describe output; it was not read",
      });
    }
  }
  if (folder.endpoints) folder.endpoints = folder.endpoints.filter((e) => e.negKey !== undefined);
}

/** The file's name holds the backend service's name (hand-made get-health files). */
function resolveHealthOwners(folder: SnapshotFolder): void {
  const services = folder.compute.filter((c) => c.collection === "backendServices").map((c) => c.name);
  for (const h of folder.health) {
    if (h.backendService) continue;
    const base = h.file.slice(h.file.lastIndexOf("/") + 1);
    const named = services.filter((s) => base.includes(s)).sort((a, b) => b.length - a.length);
    if (named.length > 0) h.backendService = named[0];
    else {
      folder.warnings.push({
        file: h.file,
        message: "get-health output that names no backend service: add a backendService field, or name the file after the backend service (e.g. <backend-service>.get-health.json); it was not read",
      });
    }
  }
  folder.health = folder.health.filter((h) => h.backendService !== undefined);
}

/** Objects of another project, and the same Kubernetes object saved twice with different uids. */
function crossChecks(folder: SnapshotFolder): void {
  const project = folder.project;
  if (project) {
    for (const c of folder.compute.filter((c) => c.project && c.project !== project)) {
      folder.warnings.push({ file: c.file, message: `${c.collection}/${c.name} belongs to project ${c.project}, not ${project} (the rest of the folder); it is not used` });
      (folder.otherClusterFiles ??= new Set()).add(c.file);
    }
    folder.compute = folder.compute.filter((c) => !c.project || c.project === project);
    for (const node of folder.kube.filter((k) => k.kind === "Node")) {
      const providerId = (node.object.spec as { providerID?: unknown } | undefined)?.providerID;
      const nodeProject = typeof providerId === "string" ? /^gce:\/\/([^/]+)\//.exec(providerId)?.[1] : undefined;
      if (nodeProject && nodeProject !== project) {
        folder.warnings.push({ file: node.file, message: `Node ${node.name} runs in project ${nodeProject}, not ${project}: it is another cluster's; it is not used` });
        (folder.otherClusterFiles ??= new Set()).add(node.file);
      }
    }
    folder.kube = folder.kube.filter((k) => {
      if (k.kind !== "Node") return true;
      const providerId = (k.object.spec as { providerID?: unknown } | undefined)?.providerID;
      const nodeProject = typeof providerId === "string" ? /^gce:\/\/([^/]+)\//.exec(providerId)?.[1] : undefined;
      return !nodeProject || nodeProject === project;
    });
  }
  const seen = new Map<string, KubeEntry>();
  const keep: KubeEntry[] = [];
  for (const k of folder.kube) {
    const id = `${k.apiVersion.split("/")[0]}|${k.kind}|${k.namespace ?? ""}|${k.name}`;
    const first = seen.get(id);
    if (!first) {
      seen.set(id, k);
      keep.push(k);
      continue;
    }
    const uid = (o: KubeEntry) => (o.object.metadata as { uid?: string } | undefined)?.uid;
    if (uid(first) !== uid(k) && uid(first) && uid(k)) {
      folder.warnings.push({ file: k.file, message: `${k.kind} ${k.namespace ? `${k.namespace}/` : ""}${k.name} is also in ${first.file} with another uid (another cluster, or re-created); the one in ${first.file} is used` });
    }
  }
  folder.kube = keep;
  const seenCompute = new Map<string, ComputeEntry>();
  folder.compute = folder.compute.filter((c) => {
    if (seenCompute.has(c.key)) return false;
    seenCompute.set(c.key, c);
    return true;
  });
}

/**
 * Reads a snapshot folder. Throws only when `dir` is not a readable folder (the CLI reports it);
 * everything inside that cannot be used is a warning naming the file.
 */
export function readSnapshotFolder(dir: string): SnapshotFolder {
  const stat = statSync(dir, { throwIfNoEntry: false });
  if (!stat) throw new Error(`--snapshot ${dir}: no such folder`);
  if (!stat.isDirectory()) throw new Error(`--snapshot ${dir}: not a folder; give the folder that holds the saved objects`);
  const folder: SnapshotFolder = { dir, compute: [], health: [], members: [], kube: [], nodes: new Map(), warnings: [] };
  const found = walk(dir, folder.warnings);
  const byName = new Map(found.map((f) => [f.file, f]));
  const read = (file: string) => readText(byName.get(file)!, folder.warnings);
  const objectFiles: string[] = [];
  for (const { file } of found) {
    const nodeFile = /^nodes\/([^/]+)\/([^/]+)$/.exec(file);
    if (nodeFile) {
      const [, node, name] = nodeFile as unknown as [string, string, string];
      if (!(name in NODE_FILES)) {
        folder.warnings.push({ file, message: `not a node output the verifier reads; node files are ${Object.keys(NODE_FILES).join(", ")}` });
        continue;
      }
      if (!folder.nodes.has(node)) folder.nodes.set(node, new Map());
      // Read when the node is judged, with the same bounds and encoding checks as every file; a
      // file that cannot be read throws, and the node reader makes that a problem of the node.
      const entry = byName.get(file)!;
      folder.nodes.get(node)!.set(name, () => {
        const why: SnapshotWarning[] = [];
        const text = readText(entry, why);
        if (text === undefined) throw new Error(why.map((w) => w.message).join("; ") || "not read");
        return text;
      });
      continue;
    }
    if (file === "snapshot.json") {
      const text = read(file);
      if (text === undefined) continue;
      const parsed = parseJson(text);
      const meta = parsed.value as SnapshotMeta | undefined;
      if (parsed.error) folder.warnings.push({ file, message: `${parsed.error}; ignored` });
      else if (meta?.format === "gke-ingress-path snapshot") folder.meta = meta;
      else folder.warnings.push({ file, message: 'not a snapshot description (no "format": "gke-ingress-path snapshot"); ignored' });
      continue;
    }
    if (!/\.(json|ya?ml)$/i.test(file)) {
      folder.warnings.push({ file, message: "neither .json nor .yaml/.yml; not read (node outputs go under nodes/<node name>/)" });
      continue;
    }
    objectFiles.push(file);
  }
  // The folder's project first, so hand-made objects without a selfLink get it.
  const texts = new Map<string, unknown[]>();
  const projects = new Map<string, number>();
  for (const file of objectFiles) {
    const text = read(file);
    if (text === undefined) continue;
    const docs = documents(file, text, folder.warnings);
    texts.set(file, docs);
    for (const m of JSON.stringify(docs).matchAll(/\/compute\/(?:v1|beta|alpha)\/projects\/([^/"]+)\//g)) projects.set(m[1]!, (projects.get(m[1]!) ?? 0) + 1);
  }
  folder.project = folder.meta?.project ?? [...projects.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
  for (const [file, docs] of texts) {
    const count = docs.reduce<number>((n, doc, i) => n + addValue(folder, file, doc, docs.length > 1 ? `document ${i + 1}` : ""), 0);
    if (count === 0 && docs.length === 0 && !folder.warnings.some((w) => w.file === file)) {
      folder.warnings.push({ file, message: "holds no document; not read" });
    }
  }
  resolveHealthOwners(folder);
  resolveEndpointOwners(folder);
  crossChecks(folder);
  // Some warnings name what a file holds (a kind, a name): control characters escaped, length and
  // credentials bounded here, once for all of them.
  folder.warnings = folder.warnings.map((w) => ({ file: safeText(w.file, 200), message: safeText(w.message, 600) }));
  return folder;
}

/** Text that came from a file, fit for a message: control characters escaped, credentials redacted, at most `max` characters. */
function safeText(text: string, max: number): string {
  const escaped = redactText(text).replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
  return escaped.length > max ? `${escaped.slice(0, max)}…` : escaped;
}

/**
 * Sub-folders that each hold an Ingress, when there are two or more and the folder shows it holds
 * more than one snapshot (a snapshot.json below the top, or objects of another project or cluster
 * set aside): a folder of several snapshots, whose objects must not be judged as one cluster. []
 * otherwise. Names relative to the folder, sorted, e.g. ["blog", "shop"].
 */
export function separateSnapshots(folder: SnapshotFolder): string[] {
  const top = (file: string) => (file.includes("/") ? file.slice(0, file.indexOf("/")) : undefined);
  const dirs = [...new Set(folder.kube.filter((k) => k.kind === "Ingress").map((k) => top(k.file)))];
  if (dirs.length < 2 || dirs.includes(undefined)) return [];
  const several = (folder.otherClusterFiles?.size ?? 0) > 0 || folder.warnings.some((w) => /^[^/]+\/(.+\/)?snapshot\.json$/.test(w.file));
  return several ? (dirs as string[]).sort() : [];
}
