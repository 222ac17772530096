// `npm run snapshot`: the real transports under the official clients, wrapped so that every answer
// is also written to the folder verbatim (API objects as returned). Only response bodies are
// written, never request headers (the bearer token), and never a Secret. The node outputs the SSH
// source read are written as nodes/<node>/<file>; snapshot.json says what was read, when, and what failed.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { IsomorphicFetchHttpLibrary, Observable, ResponseContext, type HttpLibrary, type RequestContext } from "@kubernetes/client-node";
import type { NodeModel } from "../model";
import type { SnapshotMeta } from "./folder";
import { nodeFiles } from "./nodes";

const safe = (text: string) => text.replace(/[^A-Za-z0-9._-]+/g, "_").slice(0, 120);

export class SnapshotRecorder {
  readonly meta: SnapshotMeta;
  private readonly written = new Set<string>();

  constructor(readonly dir: string, now = new Date()) {
    this.meta = { format: "gke-ingress-path snapshot", createdAt: now.toISOString(), reads: [], failed: [], withheld: [], nodes: [] };
  }

  /** Writes one file under the folder (relative path); a name already used gets a numeric suffix. */
  write(path: string, text: string): string {
    let file = path;
    for (let i = 2; this.written.has(file); i++) file = path.replace(/(\.[a-z]+)$/, `.${i}$1`);
    this.written.add(file);
    mkdirSync(dirname(join(this.dir, file)), { recursive: true });
    writeFileSync(join(this.dir, file), text);
    return file;
  }

  /** A Compute answer: 200 bodies verbatim; getHealth wrapped as gcloud prints it, with backendService. */
  compute(method: string, url: URL, requestBody: string | undefined, status: number, text: string): void {
    const path = url.pathname.replace(/^\/compute\/(v1|beta|alpha)\/projects\/[^/]+\//, "");
    const read: SnapshotMeta["reads"][number] = { api: "compute", method, path: url.pathname, status };
    this.meta.from = { ...this.meta.from, compute: url.origin };
    this.meta.reads.push(read);
    if (status !== 200) {
      this.meta.failed.push({ what: `${method} ${url.pathname}`, message: `${status}: ${messageOf(text)}` });
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
      read.file = this.write(`compute/${safe(health[1]!)}.get-health.${safe(group.slice(group.lastIndexOf("/") + 1))}.json`, JSON.stringify({ backendService: health[1], backend: group, status: body }, null, 1) + "\n");
      return;
    }
    if (this.networkEndpoints(path, url, body, read)) return;
    if (/\/listInstances$/.test(path) && !body.selfLink) {
      // The group is named by the answer's selfLink (the API's own URL for it); filled when empty.
      body.selfLink = `https://www.googleapis.com${url.pathname}`;
    }
    read.file = this.write(`compute/${safe(path)}.json`, JSON.stringify(body, null, 1) + "\n");
  }

  /**
   * A listNetworkEndpoints answer names no NEG (design.md, "contract: snapshot, NEGs"): it is saved
   * with a `networkEndpointGroup` field holding the NEG's link. False for any other answer.
   */
  private networkEndpoints(path: string, url: URL, body: Record<string, unknown>, read: SnapshotMeta["reads"][number]): boolean {
    const m = /^(zones\/[^/]+)\/networkEndpointGroups\/([^/]+)\/listNetworkEndpoints$/.exec(path);
    if (!m) return false;
    const link = `https://www.googleapis.com${url.pathname.replace(/\/listNetworkEndpoints$/, "")}`;
    read.file = this.write(`compute/${safe(path)}.json`, JSON.stringify({ ...body, networkEndpointGroup: link }, null, 1) + "\n");
    return true;
  }

  /** A Kubernetes answer: 200 bodies verbatim, Secrets withheld. */
  kube(method: string, url: URL, status: number, text: string): void {
    const read: SnapshotMeta["reads"][number] = { api: "kubernetes", method, path: url.pathname + (url.search ? decodeURIComponent(url.search) : ""), status };
    this.meta.from = { ...this.meta.from, kubernetes: url.origin };
    this.meta.reads.push(read);
    if (status !== 200) {
      this.meta.failed.push({ what: `${method} ${read.path}`, message: `${status}: ${messageOf(text)}` });
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
      this.meta.withheld.push(`${read.path} (a ${body.kind}: never saved)`);
      return;
    }
    read.file = this.write(`kubernetes/${safe(url.pathname.replace(/^\/(api|apis)\//, "") + (url.search ? `_${url.search}` : ""))}.json`, JSON.stringify(body, null, 1) + "\n");
  }

  /** Node outputs as nodes/<node>/<file>. */
  nodes(nodes: NodeModel[], problems: { subject?: string; message: string }[]): void {
    for (const node of nodes) {
      const files = nodeFiles(node);
      for (const [name, text] of files) this.write(`nodes/${safe(node.name)}/${name}`, text);
      const problem = problems.find((p) => p.subject === node.name)?.message;
      this.meta.nodes.push({ name: node.name, files: [...files.keys()], ...(problem ? { problem } : {}) });
    }
  }

  finish(): void {
    writeFileSync(join(this.dir, "snapshot.json"), JSON.stringify(this.meta, null, 1) + "\n");
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

function messageOf(text: string): string {
  try {
    const body = JSON.parse(text) as { message?: string; error?: { message?: string } };
    return (body.error?.message ?? body.message ?? text).slice(0, 300);
  } catch {
    return text.slice(0, 300);
  }
}
