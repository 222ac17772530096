// Verify any GKE Ingress, live or from a snapshot folder: find the Ingress (or the only one), the
// Service(s) its rules and default backend name, then run the same collection as `npm run verify`
// (verifier/verify.ts gkeSteps) with the same Compute and Kubernetes sources. Only the transport
// under the official clients differs: the network, a recorder, or the folder. Read-only: the
// Kubernetes and Compute requests are GETs plus the two read-only POSTs (getHealth, listInstances).
import type { NodesFlag } from "../sources/node-selection";
import { NetworkingV1Api, type V1Ingress } from "@kubernetes/client-node";
import type { PathModel, Problem } from "../model";
import type { GkeSources, VerifySteps } from "../verify";
import type { KubeAccess, Progress, StackOutputs } from "../sources/types";
import type { SnapshotFolder } from "./folder";
import { nodeFileCommands, nodesFromFolder } from "./nodes";
import { MISSING_MARK, missingTag, type MissingObject } from "./transport";

import type { IngressRef } from "./ingress-ref";
export { parseIngressRef, type IngressRef } from "./ingress-ref";

/** Where the objects come from: the transports under the official clients. */
export interface IngressTransports {
  kube: KubeAccess;
  /** gaxios fetchImplementation for the Compute client; undefined = the network */
  computeFetch?: typeof fetch;
  /** the snapshot folder (node files, warnings), when judging one */
  folder?: SnapshotFolder;
  /** filled by the snapshot transports with what the folder could not answer */
  missing?: MissingObject[];
}

export interface IngressVerifyOptions {
  ingress?: IngressRef;
  service?: string;
  project?: string;
  location?: string;
  cluster?: string;
  /** why the nodes are not read over SSH (live mode); undefined for a snapshot (its node files are read) */
  noSsh?: string;
  /** requests to the load balancer (live only; 0 = none) */
  requests: number;
  timeoutMs: number;
  accessToken: string;
  /** SSH to the nodes with a key the caller holds (the program's stack); undefined = no SSH */
  ssh?: { user: string; privateKey: string; transport: "direct" | "iap" };
  /** keep each node's outputs whole instead of cutting them down to the Service's rules (the snapshot command saves them) */
  wholeNodeOutputs?: boolean;
  /** --nodes and --concurrency, as verify takes them (GkeVerifyOptions) */
  nodes?: NodesFlag;
  concurrency?: number;
}

/** The Service(s) an Ingress routes to: the default backend first, then the rules in order. */
export function ingressServices(ingress: V1Ingress): { name: string; port: number | string }[] {
  const out: { name: string; port: number | string }[] = [];
  const add = (svc: { name?: string; port?: { number?: number; name?: string } } | undefined) => {
    if (!svc?.name) return;
    const port = svc.port?.number ?? svc.port?.name ?? "";
    if (!out.some((s) => s.name === svc.name && s.port === port)) out.push({ name: svc.name, port });
  };
  add(ingress.spec?.defaultBackend?.service);
  for (const rule of ingress.spec?.rules ?? []) for (const path of rule.http?.paths ?? []) add(path.backend?.service);
  return out;
}

/**
 * The API server's own message from a Kubernetes client error (its Status `message`), without the
 * client's "HTTP-Code: ... Unknown API Status Code!" wrapping, the raw body or the snapshot
 * transport's internal tag; the HTTP code when there is no message.
 */
export function apiMessage(error: unknown): string {
  const failure = error as { code?: unknown; body?: unknown; message?: unknown };
  let parsed: unknown = failure?.body;
  // the client hands the body as text, sometimes JSON-encoded twice
  for (let i = 0; i < 2 && typeof parsed === "string"; i++) {
    try {
      parsed = JSON.parse(parsed);
    } catch {
      break;
    }
  }
  const message = (parsed as { message?: unknown } | undefined)?.message;
  if (typeof message === "string") return message.replace(/ \[snapshot-missing #\d+\]/, "");
  if (typeof failure?.code === "number") return `the API server answered ${failure.code}`;
  return typeof failure?.message === "string" ? failure.message.split("\n")[0]!.slice(0, 200) : String(error).slice(0, 200);
}

export interface IngressChoice {
  ingress: V1Ingress;
  ref: IngressRef;
  service: { name: string; port: number | string };
  /** warnings about the choices made (several Services, no --service) */
  notes: Problem[];
}

/**
 * Reads the Ingress (or lists them when none is named) and picks the Service to judge. Throws an
 * Error with a message for the user when there is no Ingress, several and none named, or the named
 * Service is not one the Ingress routes to.
 */
export async function chooseIngress(networking: NetworkingV1Api, opts: Pick<IngressVerifyOptions, "ingress" | "service">, where: string): Promise<IngressChoice> {
  let ingress: V1Ingress;
  if (opts.ingress) {
    try {
      ingress = await networking.readNamespacedIngress({ name: opts.ingress.name, namespace: opts.ingress.namespace });
    } catch (error) {
      throw new Error(`Ingress ${opts.ingress.namespace}/${opts.ingress.name} could not be read from ${where}: ${apiMessage(error)}`);
    }
  } else {
    let all: V1Ingress[];
    try {
      all = (await networking.listIngressForAllNamespaces()).items;
    } catch (error) {
      throw new Error(`no --ingress given and the Ingresses could not be listed from ${where}: ${apiMessage(error)}; give --ingress NAMESPACE/NAME`);
    }
    const names = all.map((i) => `${i.metadata?.namespace}/${i.metadata?.name}`);
    if (all.length === 0) throw new Error(`${where} holds no Ingress; save it with \`kubectl get ingress NAME -n NAMESPACE -o yaml\``);
    if (all.length > 1) throw new Error(`${where} holds ${all.length} Ingresses (${names.join(", ")}); choose one with --ingress ${names[0]}`);
    ingress = all[0]!;
  }
  const ref = { namespace: ingress.metadata?.namespace ?? opts.ingress?.namespace ?? "default", name: ingress.metadata?.name ?? opts.ingress?.name ?? "" };
  const services = ingressServices(ingress);
  const notes: Problem[] = [];
  if (services.length === 0) throw new Error(`Ingress ${ref.namespace}/${ref.name} routes to no Service (no spec.defaultBackend.service, no rules[].http.paths[].backend.service)`);
  let service = services[0]!;
  if (opts.service) {
    const named = services.find((s) => s.name === opts.service);
    if (!named) throw new Error(`--service ${opts.service}: Ingress ${ref.namespace}/${ref.name} routes to ${services.map((s) => s.name).join(", ")}, not ${opts.service}`);
    service = named;
  } else if (new Set(services.map((s) => s.name)).size > 1) {
    notes.push({
      source: "input",
      subject: `${ref.namespace}/${ref.name}`,
      message: `Ingress ${ref.namespace}/${ref.name} routes to ${services.length} Services (${services.map((s) => `${s.name}:${s.port}`).join(", ")}); judging ${service.name}, ${ingress.spec?.defaultBackend ? "its default backend" : "the first rule's"}`,
      hint: `give --service NAME to judge another (${services.filter((s) => s !== service).map((s) => s.name).join(", ")})`,
    });
  }
  return { ingress, ref, service, notes };
}

/** The Ingress's load balancer IP from its status, if any. */
const statusIp = (ingress: V1Ingress) => ingress.status?.loadBalancer?.ingress?.find((i) => i.ip)?.ip;

/** The project of the cluster: given, else the nodes' providerID / the snapshot's Compute links. */
function projectOf(opts: IngressVerifyOptions, folder?: SnapshotFolder): string | undefined {
  return opts.project ?? folder?.meta?.project ?? folder?.project;
}

/**
 * Replaces each Problem that quotes a snapshot 404 with one naming the missing object and the
 * command that supplies it (the sources' own 404 hints speak of a live load balancer).
 */
export function explainMissing(model: PathModel, missing: MissingObject[], dir: string): void {
  model.problems = model.problems.map((p) => {
    if (!p.message.includes(MISSING_MARK)) return p;
    const index = missing.findIndex((_, i) => p.message.includes(missingTag(i)));
    const entry = missing[index];
    if (!entry) return p;
    return { source: p.source, subject: p.subject, message: `${entry.what} is ${MISSING_MARK} ${dir}`, hint: `save it into the folder: ${entry.command}` };
  });
}

/**
 * The collection steps for an Ingress: gkeSteps (the stack's collection) over sources whose
 * transports are the given ones. `sources` are the live sources (verify.ts loadLiveSources).
 */
export function ingressSteps(choice: IngressChoice, opts: IngressVerifyOptions, transports: IngressTransports, sources: GkeSources, gkeSteps: typeof import("../verify").gkeSteps): VerifySteps {
  const folder = transports.folder;
  const project = projectOf(opts, folder) ?? "";
  const ip = statusIp(choice.ingress);
  const url = ip && opts.requests > 0 && !folder ? `http://${ip}/` : "";
  const outputs: StackOutputs = {
    url,
    loadBalancerIp: "",
    nodePort: 0,
    serviceClusterIp: "",
    servicePort: typeof choice.service.port === "number" ? choice.service.port : 0,
    podPort: 0,
    project,
    location: opts.location ?? folder?.meta?.location ?? "",
    clusterName: opts.cluster ?? folder?.meta?.cluster ?? "",
    namespace: choice.ref.namespace,
    deploymentName: "",
    serviceName: choice.service.name,
    ingressName: choice.ref.name,
    nodeTag: "",
    sshUser: opts.ssh?.user ?? "",
    kubeconfig: "",
    sshPrivateKey: opts.ssh?.privateKey ?? "",
  };
  const wrapped: GkeSources = {
    ...sources,
    googleAccessToken: async () => opts.accessToken,
    kubeAccessFromKubeconfig: () => transports.kube,
    collectLoadBalancer: (p, annotations, callOpts) => sources.collectLoadBalancer(p, annotations, { ...callOpts, fetchImplementation: transports.computeFetch } as typeof callOpts),
    // Host keys only serve SSH; read only when SSH is opened.
    fetchHostKeys: async (p, instances, callOpts) => (opts.ssh && !folder ? sources.fetchHostKeys(p, instances, { ...callOpts, fetchImplementation: transports.computeFetch } as typeof callOpts) : new Map()),
    // The second host-key source goes through the same transport: a folder never reaches the network.
    fetchConsoleHostKeys: async (p, instances, callOpts) =>
      opts.ssh && !folder && sources.fetchConsoleHostKeys ? sources.fetchConsoleHostKeys(p, instances, { ...callOpts, fetchImplementation: transports.computeFetch } as typeof callOpts) : new Map(),
    collectNodes: async (targets, sshOpts, progress) => {
      if (opts.ssh && !folder) return sources.collectNodes(targets, sshOpts, progress);
      if (folder) return nodesFromFolder(folder, targets, project || undefined, sshOpts.focus);
      return {
        nodes: [],
        problems: targets.map((t) => ({
          source: "ssh" as const,
          subject: t.name,
          message: `node ${t.name} was not read: ${opts.noSsh ?? "no SSH in this mode"}`,
          hint: `save its outputs with your own gcloud login and judge them offline (npm run verify -- --snapshot DIR): ${nodeFileCommands(t.name, t.zone, project || undefined).join(" && ")}`,
        })),
      };
    },
    readNatCounters: async () => new Map(),
  };
  const steps = gkeSteps(outputs, { requests: url ? opts.requests : 0, keepAlive: false, transport: opts.ssh?.transport ?? "iap", timeoutMs: opts.timeoutMs, accessToken: opts.accessToken, wholeNodeOutputs: opts.wholeNodeOutputs, nodes: opts.nodes, concurrency: opts.concurrency }, wrapped);
  return {
    async collect(progress: Progress) {
      const model = await steps.collect(progress);
      model.problems = model.problems.filter((p) => !(p.source === "requests" && /--requests 0/.test(p.message)));
      if (!url) {
        model.problems.push({
          source: "requests",
          message: folder
            ? "a snapshot holds no requests to the load balancer (it records what the APIs and nodes said, not traffic)"
            : "no request was sent to the load balancer (verify --ingress sends none unless --requests N is given)",
          hint: folder ? `to judge C12, run npm run verify -- --ingress ${choice.ref.namespace}/${choice.ref.name} --requests 20 against the live cluster` : "add --requests 20 to send requests to the Ingress's IP",
        });
      }
      if (transports.missing && folder) explainMissing(model, transports.missing, folder.dir);
      model.problems.unshift(...choice.notes, ...(folder?.warnings ?? []).map((w): Problem => ({ source: "input", subject: w.file || folder!.dir, message: `${w.file || folder!.dir}: ${w.message}` })));
      // Values the program's stack would give: none here, the objects decide.
      model.target = {
        kind: "gke",
        project: project || undefined,
        location: outputs.location || undefined,
        clusterName: outputs.clusterName || undefined,
        url: url || undefined,
        loadBalancerIp: undefined,
        origin: { kind: folder ? "snapshot" : "ingress", ingress: `${choice.ref.namespace}/${choice.ref.name}`, service: choice.service.name, ...(folder ? { snapshot: folder.dir } : {}) },
        expected: typeof choice.service.port === "number" ? { servicePort: choice.service.port } : {},
      };
      return model;
    },
    readCounters: undefined,
    requests: url ? steps.requests : undefined,
  };
}
