// `npm run snapshot`: the real transports under the official clients, wrapped so that every answer
// is also written to the folder, as returned but cut to the fields the verifier reads
// (sources/read-fields.ts) and with every credential-looking value replaced by a marker (redact.ts).
// Only response bodies are written, never request headers (the bearer token), and never a Secret.
// The node outputs the SSH source read are written as nodes/<node>/<file>; snapshot.json says what
// was read, when, what failed and what was withheld. The folder is private (0700, files 0600) and
// appears only when whole: everything is written into a hidden folder beside it and renamed at the end.
import { randomBytes } from "node:crypto";
import { mkdirSync, readdirSync, renameSync, rmSync, rmdirSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { IsomorphicFetchHttpLibrary, Observable, ResponseContext, type HttpLibrary, type RequestContext } from "@kubernetes/client-node";
import type { NodeModel } from "../model";
import type { SnapshotMeta } from "./folder";
import { nodeFiles } from "./nodes";
import { redactText, redactValue, type RedactedField } from "../redact";
import { allowedFields } from "../sources/read-fields";

const safe = (text: string) => text.replace(/[^A-Za-z0-9._-]+/g, "_").slice(0, 120);

/** Owner-only: a snapshot names a whole load balancer and cluster. */
const DIR_MODE = 0o700;
const FILE_MODE = 0o600;

export class SnapshotRecorder {
  readonly meta: SnapshotMeta;
  private readonly written = new Set<string>();
  /** where the files go until finish(): a hidden folder beside `dir`, on the same file system */
  readonly partial: string;
  private done = false;

  /**
   * `dir` must not exist, or be an empty folder (it is replaced by the finished snapshot). Throws
   * when the folder beside it cannot be created (the message names it).
   */
  constructor(readonly dir: string, now = new Date()) {
    this.meta = { format: "gke-ingress-path snapshot", createdAt: now.toISOString(), reads: [], failed: [], withheld: [], nodes: [] };
    const target = resolve(dir);
    this.partial = join(dirname(target), `.${basename(target)}.partial-${process.pid}-${randomBytes(4).toString("hex")}`);
    mkdirSync(this.partial, { mode: DIR_MODE });
  }

  /** Writes one file under the folder (relative path; 0600, folders 0700); a name already used gets a numeric suffix. */
  write(path: string, text: string): string {
    let file = path;
    for (let i = 2; this.written.has(file); i++) file = path.replace(/(\.[a-z]+)$/, `.${i}$1`);
    this.written.add(file);
    mkdirSync(dirname(join(this.partial, file)), { recursive: true, mode: DIR_MODE });
    writeFileSync(join(this.partial, file), text, { mode: FILE_MODE });
    return file;
  }

  /** The fields the verifier reads, credentials replaced; what was left out goes to meta.withheld. */
  private keep(body: unknown): unknown {
    const allowed = allowedFields(body);
    const byObject = new Map<string, string[]>();
    for (const d of allowed.dropped) byObject.set(d.object, [...(byObject.get(d.object) ?? []), d.field]);
    for (const [object, fields] of byObject) this.meta.withheld.push({ object, fields, reason: "not read by the verifier" });
    const removed: RedactedField[] = [];
    const value = redactValue(allowed.value, removed);
    for (const r of removed) {
      // inside a list: name the item (typed lists leave kind off their items)
      const m = /^items\[(\d+)\]\.(.+)$/.exec(r.field);
      const list = body as { kind?: unknown; items?: unknown };
      const item = m && Array.isArray(list.items) ? (list.items[Number(m[1])] as Record<string, unknown> | undefined) : undefined;
      const itemKind = typeof list.kind === "string" ? list.kind.replace(/List$/, "") : undefined;
      const object = item ? describeObject({ kind: itemKind, ...item }) : describeObject(body);
      this.meta.withheld.push({ object, fields: [item ? m![2]! : r.field], reason: `looks like a credential (${r.what}); replaced by a marker` });
    }
    return value;
  }

  /** A Compute answer: 200 bodies cut to the fields read (keep); getHealth wrapped as gcloud prints it, with backendService. */
  compute(method: string, url: URL, requestBody: string | undefined, status: number, text: string): void {
    const path = url.pathname.replace(/^\/compute\/(v1|beta|alpha)\/projects\/[^/]+\//, "");
    const read: SnapshotMeta["reads"][number] = { api: "compute", method, path: url.pathname, status };
    this.meta.from = { ...this.meta.from, compute: url.origin };
    this.meta.reads.push(read);
    if (status !== 200) {
      this.meta.failed.push({ what: `${method} ${url.pathname}`, message: redactText(`${status}: ${messageOf(text)}`) });
      return;
    }
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      this.meta.failed.push({ what: `${method} ${url.pathname}`, message: "the answer was not JSON" });
      return;
    }
    if (body.kind === "compute#guestAttributes") return; // SSH host keys: used for SSH only, not judged
    const health = /backendServices\/([^/]+)\/getHealth$/.exec(path);
    if (health) {
      const group = (JSON.parse(requestBody ?? "{}") as { group?: string }).group ?? "";
      read.file = this.write(`compute/${safe(health[1]!)}.get-health.${safe(group.slice(group.lastIndexOf("/") + 1))}.json`, JSON.stringify({ backendService: health[1], backend: group, status: this.keep(body) }, null, 1) + "\n");
      return;
    }
    if (this.networkEndpoints(path, url, body, read)) return;
    if (/\/listInstances$/.test(path) && !body.selfLink) {
      // The group is named by the answer's selfLink (the API's own URL for it); filled when empty.
      body.selfLink = `https://www.googleapis.com${url.pathname}`;
    }
    read.file = this.write(`compute/${safe(path)}.json`, JSON.stringify(this.keep(body), null, 1) + "\n");
  }

  /**
   * A listNetworkEndpoints answer names no NEG (design.md, "contract: snapshot, NEGs"): it is saved
   * with a `networkEndpointGroup` field holding the NEG's link. False for any other answer.
   */
  private networkEndpoints(path: string, url: URL, body: Record<string, unknown>, read: SnapshotMeta["reads"][number]): boolean {
    const m = /^(zones\/[^/]+)\/networkEndpointGroups\/([^/]+)\/listNetworkEndpoints$/.exec(path);
    if (!m) return false;
    const link = `https://www.googleapis.com${url.pathname.replace(/\/listNetworkEndpoints$/, "")}`;
    read.file = this.write(`compute/${safe(path)}.json`, JSON.stringify(this.keep({ ...body, networkEndpointGroup: link }), null, 1) + "\n");
    return true;
  }

  /** A Kubernetes answer: 200 bodies cut to the fields read (keep), Secrets withheld whole. */
  kube(method: string, url: URL, status: number, text: string): void {
    const read: SnapshotMeta["reads"][number] = { api: "kubernetes", method, path: url.pathname + (url.search ? decodeURIComponent(url.search) : ""), status };
    this.meta.from = { ...this.meta.from, kubernetes: url.origin };
    this.meta.reads.push(read);
    if (status !== 200) {
      this.meta.failed.push({ what: `${method} ${read.path}`, message: redactText(`${status}: ${messageOf(text)}`) });
      return;
    }
    let body: { kind?: string };
    try {
      body = JSON.parse(text) as { kind?: string };
    } catch {
      this.meta.failed.push({ what: `${method} ${read.path}`, message: "the answer was not JSON" });
      return;
    }
    if (body.kind === "Secret" || body.kind === "SecretList") {
      this.meta.withheld.push({ object: read.path, fields: ["(the whole object)"], reason: `a ${body.kind}: never saved` });
      return;
    }
    read.file = this.write(`kubernetes/${safe(url.pathname.replace(/^\/(api|apis)\//, "") + (url.search ? `_${url.search}` : ""))}.json`, JSON.stringify(this.keep(body), null, 1) + "\n");
  }

  /** Node outputs as nodes/<node>/<file>. */
  nodes(nodes: NodeModel[], problems: { subject?: string; message: string }[]): void {
    for (const node of nodes) {
      const files = nodeFiles(node);
      for (const [name, text] of files) this.write(`nodes/${safe(node.name)}/${name}`, redactText(text));
      const problem = problems.find((p) => p.subject === node.name)?.message;
      this.meta.nodes.push({ name: node.name, files: [...files.keys()], ...(problem ? { problem } : {}) });
    }
  }

  /**
   * Writes snapshot.json and puts the folder in place (one rename). Throws when `dir` was filled
   * meanwhile; the partial folder is then removed.
   */
  finish(): void {
    try {
      writeFileSync(join(this.partial, "snapshot.json"), redactText(JSON.stringify(this.meta, null, 1)) + "\n", { mode: FILE_MODE });
      // An empty folder the user made (or an earlier failed run left) is replaced; a full one never is.
      if (statSync(this.dir, { throwIfNoEntry: false })?.isDirectory() && readdirSync(this.dir).length === 0) rmdirSync(this.dir);
      renameSync(this.partial, this.dir);
      this.done = true;
    } catch (error) {
      this.abort();
      throw error;
    }
  }

  /** Removes everything written so far (a failed or interrupted snapshot leaves nothing behind). */
  abort(): void {
    if (!this.done) rmSync(this.partial, { recursive: true, force: true });
  }

  /** fetch for gaxios: the network, with every answer recorded. */
  computeFetch(network: typeof fetch = globalThis.fetch): typeof fetch {
    return async (input, init) => {
      const response = await network(input, init);
      const url = new URL(typeof input === "string" ? input : input instanceof URL ? input.href : input.url);
      this.compute((init?.method ?? "GET").toUpperCase(), url, typeof init?.body === "string" ? init.body : undefined, response.status, await response.clone().text());
      return response;
    };
  }

  /** HttpLibrary for the Kubernetes client: the network (or `inner`), with every answer recorded. */
  kubeHttp(inner: HttpLibrary = new IsomorphicFetchHttpLibrary()): HttpLibrary {
    return {
      send: (request: RequestContext) =>
        new Observable(
          inner
            .send(request)
            .toPromise()
            .then(async (response) => {
              const text = await response.body.text();
              this.kube(request.getHttpMethod().toString(), new URL(request.getUrl()), response.httpStatusCode, text);
              return new ResponseContext(response.httpStatusCode, response.headers, { text: async () => text, binary: async () => Buffer.from(text), stream: () => null });
            }),
        ),
    };
  }
}

/** "compute#instance node-1", "Pod study/web-1" or "PodList": the object an answer holds, for withheld entries. */
function describeObject(body: unknown): string {
  const v = (body ?? {}) as { kind?: unknown; name?: unknown; metadata?: { name?: unknown; namespace?: unknown } };
  const kind = typeof v.kind === "string" ? v.kind : "object";
  const name = typeof v.name === "string" ? v.name : typeof v.metadata?.name === "string" ? `${typeof v.metadata.namespace === "string" ? `${v.metadata.namespace}/` : ""}${v.metadata.name}` : "";
  return name ? `${kind} ${name}` : kind;
}

function messageOf(text: string): string {
  try {
    const body = JSON.parse(text) as { message?: string; error?: { message?: string } };
    return (body.error?.message ?? body.message ?? text).slice(0, 300);
  } catch {
    return text.slice(0, 300);
  }
}
