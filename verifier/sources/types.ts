// What the verifier's sources take and give. Each source fills its part of the PathModel and
// reports what it could not read as Problems instead of throwing, so the other hops still show.
import type { HttpLibrary } from "@kubernetes/client-node";
import type { KubernetesModel, LoadBalancerModel, NodeModel, NodeProbe, Problem } from "../model";
import type { HostKeySource } from "./host-keys";
import type { ServiceFocus } from "./node-reduce";

/** The stack outputs of design.md ("contract: stack outputs"), as the verifier reads them. */
export interface StackOutputs {
  url: string;
  loadBalancerIp: string;
  nodePort: number;
  serviceClusterIp: string;
  servicePort: number;
  podPort: number;
  project: string;
  location: string;
  clusterName: string;
  namespace: string;
  deploymentName: string;
  serviceName: string;
  ingressName: string;
  nodeTag: string;
  sshUser: string;
  /** secret */
  kubeconfig: string;
  /** secret, OpenSSH PEM */
  sshPrivateKey: string;
}

/** Progress per hop while collecting; the terminal report prints it, --json silences it. */
export interface Progress {
  hop(name: string, state: "start" | "ok" | "fail" | "skip", detail?: string): void;
}

export const silentProgress: Progress = { hop: () => undefined };

export interface SourceResult<T> {
  value?: T;
  problems: Problem[];
}

/** Kubernetes API access: endpoint + CA + bearer token (no gke-gcloud-auth-plugin needed). */
export interface KubeAccess {
  server: string;
  /** base64 PEM, as in a kubeconfig's certificate-authority-data; absent for plain-http stand-ins */
  caData?: string;
  token: string;
  /** the HTTP transport under the Kubernetes client (a snapshot folder or a recorder); default the network */
  httpApi?: HttpLibrary;
}

export interface KubeNames {
  namespace: string;
  serviceName: string;
  ingressName: string;
  deploymentName: string;
}

/** One node the SSH source should read. */
export interface NodeTarget {
  name: string;
  /** address to connect to (external IP for direct SSH, lab management IP in the lab) */
  address: string;
  port?: number;
  internalIp?: string;
  externalIp?: string;
  /** zone, for `gcloud compute ssh --tunnel-through-iap` */
  zone?: string;
  /** accepted host public keys, OpenSSH format ("ssh-ed25519 AAAA..."); empty = cannot verify = refuse */
  hostKeys: string[];
  /** HTTP probes to send from the node (n-ip:n-port, each p-ip:p-port) in the same SSH round; none when absent */
  probes?: ProbeRequest[];
  /** accepted host key fingerprints ("SHA256:...", or MD5 hex pairs), e.g. from the serial console */
  hostKeyFingerprints?: string[];
  /** where hostKeys / hostKeyFingerprints came from, for the report */
  hostKeySource?: HostKeySource;
}

/** One probe to run from a node: where, and the path the health check asks for. */
export type ProbeRequest = Omit<NodeProbe, "command" | "outcome">;

export interface SshOptions {
  user: string;
  /** OpenSSH private key text; never logged */
  privateKey: string;
  transport: "direct" | "iap" | "lab";
  /** project for IAP transport */
  project?: string;
  /** per-node connect + command timeout */
  timeoutMs: number;
  /**
   * Connect to a node with no known key or fingerprint anyway, accepting the key it offers (and
   * only that key for the rest of the run); each such node gets a Problem naming the fingerprint.
   */
  trustHostKeyOnFirstUse?: boolean;
  /**
   * The Service under judgment: each node's dumps are cut down to its rules as they arrive
   * (node-reduce.ts), so memory does not grow with the cluster's other Services. Undefined: kept
   * whole (the snapshot command saves what the node printed).
   */
  focus?: ServiceFocus;
  /** nodes read at the same time, 1..MAX_CONCURRENCY (default DEFAULT_CONCURRENCY of the transport) */
  concurrency?: number;
}

/**
 * Nodes read at the same time, per transport, unless --concurrency says otherwise. A direct (ssh2)
 * session is a socket and a few buffers in this process: 32 keep a 2-core machine busy without
 * holding more than 32 nodes' dumps at once. An IAP session is a gcloud process of its own (Python,
 * about 60-80 MB each, measured with /usr/bin/time on `gcloud --version`) plus its tunnel: 8 keep that
 * under ~1 GB. docs/big-clusters.md has the measurements.
 */
export const DEFAULT_CONCURRENCY: Record<SshOptions["transport"], number> = { direct: 32, lab: 32, iap: 8 };

/** The most nodes --concurrency lets a run read at once: beyond it, a run holds too many sessions and dumps at once. */
export const MAX_CONCURRENCY = 256;

export type NodesResult = { nodes: NodeModel[]; problems: Problem[] };
export type KubernetesResult = SourceResult<KubernetesModel>;
export type LoadBalancerResult = SourceResult<LoadBalancerModel>;
