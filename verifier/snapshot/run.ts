// The three ways to judge an Ingress without the program's stack outputs: a snapshot folder (no
// network at all), a live cluster (`verify --ingress`), and recording a live cluster into a folder
// (`npm run snapshot`). All three build the same official clients over different transports.
import { KubeConfig, NetworkingV1Api } from "@kubernetes/client-node";
import type { GkeSources, VerifyOutcome } from "../verify";
import type { KubeAccess, Progress } from "../sources/types";
import { silentProgress } from "../sources/types";
import { readSnapshotFolder, separateSnapshots } from "./folder";
import { chooseIngress, ingressSteps, type IngressTransports, type IngressVerifyOptions } from "./ingress";
import { SnapshotRecorder } from "./record";
import { MISSING_MARK, missingTag, snapshotComputeFetch, snapshotKubeHttp, type MissingObject } from "./transport";

/** A stand-in endpoint for the Kubernetes client in snapshot mode: never contacted (the transport answers). */
const SNAPSHOT_SERVER = "https://snapshot.invalid";
/** Compute needs a bearer token to build its client; in snapshot mode it never leaves the process. */
const SNAPSHOT_TOKEN = "snapshot-no-token";

async function load() {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const verify = require("../verify") as typeof import("../verify");
  const k8s = require("../sources/k8s") as typeof import("../sources/k8s");
  return { verify, k8s, sources: await verify.loadLiveSources() };
}

function networkingFor(k8s: typeof import("../sources/k8s"), access: KubeAccess): NetworkingV1Api {
  return k8s.makeKubeClient(k8s.configFor(access), access, NetworkingV1Api);
}

/** A failure before any judging (no folder, no Ingress): exit 2 with the reason, in the report's shape. */
export class IngressInputError extends Error {}

export type IngressOptions = Omit<IngressVerifyOptions, "accessToken"> & { accessToken?: string };

/**
 * Judges a snapshot folder. No socket is opened: both clients answer from the folder. Throws
 * IngressInputError when the folder or the Ingress cannot be found.
 */
export async function verifySnapshot(dir: string, opts: IngressOptions, progress: Progress = silentProgress, sources?: GkeSources): Promise<VerifyOutcome> {
  let folder;
  try {
    folder = readSnapshotFolder(dir);
  } catch (error) {
    throw new IngressInputError((error as Error).message);
  }
  const { verify, k8s, sources: live } = await load();
  const missing: MissingObject[] = [];
  const transports: IngressTransports = {
    kube: { server: SNAPSHOT_SERVER, token: SNAPSHOT_TOKEN, httpApi: snapshotKubeHttp(folder, missing) },
    computeFetch: snapshotComputeFetch(folder, missing),
    folder,
    missing,
  };
  const several = separateSnapshots(folder);
  if (several.length > 0) {
    const base = dir.replace(/\/+$/, "");
    throw new IngressInputError(
      `${base} holds ${several.length} snapshots, one per sub-folder (${several.map((d) => `${d}/`).join(", ")}), each with its own Ingress and load balancer; their objects are not one cluster's: judge one at a time, e.g. --snapshot ${base}/${several[0]}`,
    );
  }
  let choice;
  try {
    choice = await chooseIngress(networkingFor(k8s, transports.kube), opts, `the snapshot ${dir}`);
  } catch (error) {
    const warnings = folder.warnings.map((w) => `${w.file}: ${w.message}`);
    throw new IngressInputError(`${(error as Error).message}${warnings.length ? ` (file warnings: ${warnings.join("; ")})` : ""}`);
  }
  progress.hop("snapshot folder", "ok", `${dir}: ${folder.compute.length + folder.health.length + folder.members.length} Compute, ${folder.kube.length} Kubernetes objects, ${folder.nodes.size} nodes' files${folder.warnings.length ? `, ${folder.warnings.length} warning(s)` : ""}`);
  const steps = ingressSteps(choice, { ...opts, accessToken: SNAPSHOT_TOKEN, requests: 0 }, transports, sources ?? live, verify.gkeSteps);
  return verify.verifyPath(steps, snapshotProgress(progress, missing));
}

/** The hops that sum up the reads before them (verify.ts gkeSteps): FAIL there when any read failed. */
const SUMMARY_HOPS = new Set(["kubernetes API", "load balancer (Compute API)"]);

/**
 * The stack's hop names, said as what happens with a folder: no credentials, no host keys, node
 * files instead of SSH. What the folder lacks is "not in the folder", never FAIL: it is a gap in
 * what was saved, not a failure of anything (the report's problems name the command that fills it).
 * `missing` is the list the snapshot transports fill, in the order of their tags.
 */
export function snapshotProgress(progress: Progress, missing: MissingObject[] = []): Progress {
  let lacking = 0;
  let failed = false;
  // One object missing for two reads (the Ingress's and the Service's events: one namespace's
  // events) is one gap: said and counted once.
  const said = new Set<number>();
  return {
    hop(name, state, detail) {
      if (name === "google credentials" || name === "node host keys") return;
      if (name === "nodes over SSH") {
        const m = /^(\d+)\/(\d+) nodes/.exec(detail ?? "");
        if (state !== "fail" || !m) return progress.hop("node files", state, detail?.replace(/ read over SSH \(\w+\)$/, " have files under nodes/<node>/"));
        const [have, all] = [Number(m[1]), Number(m[2])];
        return progress.hop("node files", have === 0 ? "skip" : "ok", `${have}/${all} nodes have files under nodes/<node>/; not in the folder for ${all - have} node${all - have === 1 ? "" : "s"}`);
      }
      if (state === "fail" && detail?.includes(MISSING_MARK)) {
        const index = missing.findIndex((_, i) => detail.includes(missingTag(i)));
        if (index >= 0 && said.has(index)) return;
        if (index >= 0) said.add(index);
        lacking++;
        return progress.hop(name, "skip", `not in the folder: ${missing[index]?.what ?? name}`);
      }
      if (SUMMARY_HOPS.has(name) && state !== "start") {
        const gaps = lacking;
        const real = failed;
        lacking = 0;
        failed = false;
        if (state === "fail" && !real && gaps > 0) return progress.hop(name, "ok", `${detail ? `${detail}; ` : ""}${gaps} object${gaps === 1 ? "" : "s"} not in the folder (above)`);
        return progress.hop(name, state, detail);
      }
      if (state === "fail") failed = true;
      progress.hop(name, state, detail);
    },
  };
}

/**
 * The stack's hop names when no SSH session is opened on purpose (--no-ssh, or --ingress): no host
 * key is read and no node is reached, which is a choice, not a failure; said once, as a skip.
 */
export function withoutSsh(progress: Progress, why: string): Progress {
  return {
    hop(name, state, detail) {
      if (name === "node host keys") return;
      if (name === "nodes over SSH" && state === "fail") return progress.hop(name, "skip", `not read: ${why}`);
      progress.hop(name, state, detail);
    },
  };
}

/** Progress lines of a recording: what the report's problems would say is in snapshot.json (nodes[].problem). */
function toSnapshotJson(progress: Progress, problemsSayWhy: string): Progress {
  return { hop: (name, state, detail) => progress.hop(name, state, detail?.replace(problemsSayWhy, "(snapshot.json says why: nodes[].problem)")) };
}

/** The cluster to talk to: from --project/--location/--cluster (GKE API) or the kubeconfig's context. */
export interface LiveCluster {
  access: KubeAccess;
  project?: string;
  location?: string;
  cluster?: string;
}

/** "gke_<project>_<location>_<cluster>", the context name `gcloud container clusters get-credentials` writes. */
export function parseGkeContext(name: string): { project: string; location: string; cluster: string } | undefined {
  const m = /^gke_([^_]+)_([^_]+)_(.+)$/.exec(name);
  return m ? { project: m[1]!, location: m[2]!, cluster: m[3]! } : undefined;
}

/**
 * Finds the cluster endpoint and CA. With project, location and cluster: the GKE API
 * (container.clusters.get). Else the current kubeconfig context ($KUBECONFIG or ~/.kube/config);
 * its auth plugin is not run: the Google access token is the bearer token, as for the stack.
 */
export async function liveCluster(opts: Pick<IngressVerifyOptions, "project" | "location" | "cluster">, token: string, network: typeof fetch = globalThis.fetch): Promise<LiveCluster> {
  if (opts.project && opts.location && opts.cluster) {
    const url = `https://container.googleapis.com/v1/projects/${opts.project}/locations/${opts.location}/clusters/${opts.cluster}`;
    const response = await network(url, { headers: { authorization: `Bearer ${token}` } });
    const body = (await response.json()) as { endpoint?: string; masterAuth?: { clusterCaCertificate?: string }; error?: { message?: string } };
    if (!response.ok || !body.endpoint) {
      throw new IngressInputError(`cluster ${opts.project}/${opts.location}/${opts.cluster}: the GKE API answered ${response.status}: ${body.error?.message ?? "no endpoint"} (needs container.clusters.get, e.g. roles/container.viewer)`);
    }
    return { access: { server: `https://${body.endpoint}`, caData: body.masterAuth?.clusterCaCertificate, token }, ...opts };
  }
  const config = new KubeConfig();
  try {
    config.loadFromDefault();
  } catch (error) {
    throw new IngressInputError(`the kubeconfig could not be read (${(error as Error).name}); run \`gcloud container clusters get-credentials CLUSTER --location LOCATION --project PROJECT\`, or give --project --location --cluster`);
  }
  const cluster = config.getCurrentCluster();
  // With no kubeconfig at all, the client falls back to http://localhost:8080 (context "loaded-context").
  if (!cluster?.server || (config.getCurrentContext() === "loaded-context" && cluster.server === "http://localhost:8080")) {
    throw new IngressInputError("the kubeconfig has no current context with a cluster; run `gcloud container clusters get-credentials CLUSTER --location LOCATION --project PROJECT`, or give --project --location --cluster");
  }
  const fromName = parseGkeContext(config.getCurrentContext());
  return {
    access: { server: cluster.server, caData: cluster.caData, token },
    project: opts.project ?? fromName?.project,
    location: opts.location ?? fromName?.location,
    cluster: opts.cluster ?? fromName?.cluster,
  };
}

/** `verify --ingress` on a live cluster (transports = the network, or a recorder's). */
export async function verifyLiveIngress(cluster: LiveCluster, opts: IngressOptions & { accessToken: string }, progress: Progress = silentProgress, recorder?: SnapshotRecorder, sources?: GkeSources): Promise<VerifyOutcome> {
  const { verify, k8s, sources: live } = await load();
  const transports: IngressTransports = {
    kube: { ...cluster.access, ...(recorder ? { httpApi: recorder.kubeHttp() } : {}) },
    computeFetch: recorder?.computeFetch(),
  };
  const where = `cluster ${cluster.access.server}`;
  const choice = await chooseIngress(networkingFor(k8s, transports.kube), opts, where).catch((error: Error) => {
    throw new IngressInputError(error.message);
  });
  const project = opts.project ?? cluster.project;
  if (!project) throw new IngressInputError("the Google Cloud project is unknown: the kubeconfig context is not named gke_<project>_<location>_<cluster>; give --project");
  const steps = ingressSteps(choice, { ...opts, project, location: opts.location ?? cluster.location, cluster: opts.cluster ?? cluster.cluster, wholeNodeOutputs: recorder !== undefined }, transports, sources ?? live, verify.gkeSteps);
  // `npm run snapshot` prints no report: its progress sends the reader to snapshot.json instead.
  const told = recorder ? toSnapshotJson(progress, verify.PROBLEMS_SAY_WHY) : progress;
  const outcome = await verify.verifyPath(steps, opts.ssh ? told : withoutSsh(told, opts.noSsh ?? "no SSH in this mode"));
  if (recorder) {
    Object.assign(recorder.meta, { project, location: opts.location ?? cluster.location, cluster: opts.cluster ?? cluster.cluster, ingress: `${choice.ref.namespace}/${choice.ref.name}`, service: choice.service.name });
    recorder.nodes(outcome.model.nodes.filter((n) => n.reachable), outcome.model.problems);
    for (const p of outcome.model.problems.filter((p) => p.source === "ssh")) {
      if (!recorder.meta.nodes.some((n) => n.name === p.subject)) recorder.meta.nodes.push({ name: p.subject ?? "", files: [], problem: `${p.message}${p.hint ? `; ${p.hint}` : ""}` });
    }
    recorder.finish();
  }
  return outcome;
}
