// A snapshot folder (design.md, "contract: snapshot") read into memory: the Compute and Kubernetes
// API objects it holds, recognized by content (Compute `kind: compute#...`, Kubernetes apiVersion +
// kind), never by file name, except get-health documents without a `backendService` field, which
// name their backend service by the file's name. Node outputs live under nodes/<node>/. Every file
// that cannot be read, and every object that cannot be used, is a warning naming the file; the
// rest is still read. Pure apart from reading the files: no network.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, sep } from "node:path";
import * as yaml from "js-yaml";

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
  /** node name -> file name -> text, from nodes/<node>/<file> */
  nodes: Map<string, Map<string, string>>;
  /** snapshot.json, when present and readable */
  meta?: SnapshotMeta;
  /** the project most Compute objects belong to (or snapshot.json's) */
  project?: string;
  warnings: SnapshotWarning[];
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
  /** what was deliberately not saved (Secrets) */
  withheld: string[];
  nodes: { name: string; files: string[]; problem?: string }[];
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

/** Every file under dir, relative paths with "/" separators, sorted. */
function walk(dir: string, warnings: SnapshotWarning[]): string[] {
  const out: string[] = [];
  const visit = (path: string) => {
    let names: string[];
    try {
      names = readdirSync(path).sort();
    } catch (error) {
      warnings.push({ file: relative(dir, path), message: `cannot list the folder (${(error as NodeJS.ErrnoException).code ?? String(error)})` });
      return;
    }
    for (const name of names) {
      if (name.startsWith(".")) continue;
      const full = join(path, name);
      const stat = statSync(full, { throwIfNoEntry: false });
      if (stat?.isDirectory()) visit(full);
      else if (stat?.isFile()) out.push(relative(dir, full).split(sep).join("/"));
    }
  };
  visit(dir);
  return out;
}

/** The documents of a file: JSON (one value) or YAML (one or more documents); unreadable parts are warnings. */
function documents(file: string, text: string, warnings: SnapshotWarning[]): unknown[] {
  if (/\.json$/i.test(file)) {
    try {
      return [JSON.parse(text)];
    } catch (error) {
      warnings.push({ file, message: `not valid JSON (${(error as Error).message}); fix or remove the file` });
      return [];
    }
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
      const doc = yaml.load(part, { filename: file });
      if (doc !== undefined && doc !== null) docs.push(doc);
    } catch (error) {
      const mark = (error as { mark?: { line?: number } }).mark;
      const at = mark?.line !== undefined ? `line ${line + mark.line}` : `document ${i + 1}`;
      warnings.push({ file, message: `YAML ${at}: ${(error as { reason?: string }).reason ?? (error as Error).message} (cut or broken document skipped; the file's other documents are read)` });
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
  const keys = Object.keys(value).slice(0, 5).join(", ");
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
    }
    folder.compute = folder.compute.filter((c) => !c.project || c.project === project);
    for (const node of folder.kube.filter((k) => k.kind === "Node")) {
      const providerId = (node.object.spec as { providerID?: unknown } | undefined)?.providerID;
      const nodeProject = typeof providerId === "string" ? /^gce:\/\/([^/]+)\//.exec(providerId)?.[1] : undefined;
      if (nodeProject && nodeProject !== project) {
        folder.warnings.push({ file: node.file, message: `Node ${node.name} runs in project ${nodeProject}, not ${project}: it is another cluster's; it is not used` });
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
  const files = walk(dir, folder.warnings);
  const objectFiles: string[] = [];
  for (const file of files) {
    const nodeFile = /^nodes\/([^/]+)\/([^/]+)$/.exec(file);
    if (nodeFile) {
      const [, node, name] = nodeFile as unknown as [string, string, string];
      if (!(name in NODE_FILES)) {
        folder.warnings.push({ file, message: `not a node output the verifier reads; node files are ${Object.keys(NODE_FILES).join(", ")}` });
        continue;
      }
      if (!folder.nodes.has(node)) folder.nodes.set(node, new Map());
      folder.nodes.get(node)!.set(name, readFileSync(join(dir, file), "utf8"));
      continue;
    }
    if (file === "snapshot.json") {
      try {
        const meta = JSON.parse(readFileSync(join(dir, file), "utf8")) as SnapshotMeta;
        if (meta?.format === "gke-ingress-path snapshot") folder.meta = meta;
        else folder.warnings.push({ file, message: 'not a snapshot description (no "format": "gke-ingress-path snapshot"); ignored' });
      } catch (error) {
        folder.warnings.push({ file, message: `not valid JSON (${(error as Error).message}); ignored` });
      }
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
    const docs = documents(file, readFileSync(join(dir, file), "utf8"), folder.warnings);
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
  return folder;
}
