// Cluster: the GKE cluster as the article saw it (kube-proxy in iptables mode), its node pool
// (the VMs of the instance group(s) the load balancer targets), the node service account, the
// verifier's SSH key, a kubeconfig, and the Kubernetes provider every Kubernetes resource uses.
import * as gcp from "@pulumi/gcp";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import * as time from "@pulumiverse/time";

/**
 * What the node VMs may do with their service account, and nothing more (GKE's least-privilege
 * node roles). artifactregistry.reader is left out: the default image is public.
 */
export const nodeServiceAccountRoles = [
  "roles/logging.logWriter",
  "roles/monitoring.metricWriter",
  "roles/monitoring.viewer",
  "roles/stackdriver.resourceMetadata.writer",
] as const;

/** kube-proxy with iptables, as in 2019. ADVANCED_DATAPATH (Dataplane V2, eBPF) has no KUBE-* nat chains. */
export const legacyDatapath = "LEGACY_DATAPATH";

/**
 * The node image. The verifier checks each node's SSH host key against the keys the guest agent
 * publishes in guest attributes (hostkeys/). Google's Ubuntu images do publish them; Google's own
 * image tests skip that check on Container-Optimized OS (GKE's default image), where the keys may be
 * missing and every node would then be refused. kube-proxy's iptables path is the same on both.
 */
export const nodeImageType = "UBUNTU_CONTAINERD";

/**
 * How long the program waits, once, after creating the node service account and its role grants,
 * before GKE is told to use it. IAM reads are eventually consistent: Google's "Create service
 * accounts" page says to wait 60 seconds or more before using a new account, and GKE refuses one
 * it cannot see yet ("Failed precondition ... Verify if principal exists and is valid", reported by
 * users of terraform-google-kubernetes-engine about 30 s after creating the account).
 */
export const nodeServiceAccountPropagation = "60s";

export interface ClusterArgs {
  project: string;
  clusterName: string;
  nodePoolName: string;
  nodeServiceAccountId: string;
  /** A zone (zonal cluster) or a region (regional cluster). */
  location: string;
  /** The node pool's nodeCount: per zone (GKE counts node pools per zone). */
  nodesPerZone: number;
  machineType: string;
  spot: boolean;
  nodeTag: string;
  network: pulumi.Input<string>;
  subnetwork: pulumi.Input<string>;
  podsRangeName: string;
  servicesRangeName: string;
  sshUser: string;
  labels: Record<string, string>;
}

export class Cluster extends pulumi.ComponentResource {
  readonly cluster: gcp.container.Cluster;
  readonly nodePool: gcp.container.NodePool;
  readonly nodeServiceAccount: gcp.serviceaccount.Account;
  readonly nodeRoleBindings: gcp.projects.IAMMember[];
  /** Waits nodeServiceAccountPropagation after the account and its grants; cluster and pool depend on it. */
  readonly nodeServiceAccountVisible: time.Sleep;
  readonly sshKey: tls.PrivateKey;
  /** Authenticates with gke-gcloud-auth-plugin (exec). Secret. */
  readonly kubeconfig: pulumi.Output<string>;
  /** The Kubernetes provider for every Kubernetes resource of the stack; depends on the node pool. */
  readonly kubernetesProvider: k8s.Provider;
  /** OpenSSH private key for `sshUser` on the nodes. Secret. */
  readonly sshPrivateKey: pulumi.Output<string>;

  constructor(name: string, args: ClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("gke-ingress-path:cluster:Cluster", name, {}, opts);
    const child = { parent: this };

    this.nodeServiceAccount = new gcp.serviceaccount.Account(
      `${name}-nodes`,
      { accountId: args.nodeServiceAccountId, displayName: "gke-ingress-path nodes (least privilege)", project: args.project },
      child,
    );
    this.nodeRoleBindings = nodeServiceAccountRoles.map(
      (role) =>
        new gcp.projects.IAMMember(
          `${name}-nodes-${role.replace(/^roles\//, "").replace(/\./g, "-")}`,
          { project: args.project, role, member: pulumi.interpolate`serviceAccount:${this.nodeServiceAccount.email}` },
          child,
        ),
    );

    // Created once (and again only if the account is replaced: the trigger), so a second `pulumi up`
    // waits for nothing. Not a retry: the provider's create call would fail, not wait.
    this.nodeServiceAccountVisible = new time.Sleep(
      `${name}-nodes-visible`,
      { createDuration: nodeServiceAccountPropagation, triggers: { email: this.nodeServiceAccount.email } },
      { parent: this, dependsOn: [this.nodeServiceAccount, ...this.nodeRoleBindings] },
    );
    const afterServiceAccount = [...this.nodeRoleBindings, this.nodeServiceAccountVisible];

    // A resource, not a key generated while the program runs: the same key on every `pulumi up`
    // keeps node metadata, and so the node pool, unchanged.
    this.sshKey = new tls.PrivateKey(`${name}-ssh`, { algorithm: "ED25519" }, child);
    this.sshPrivateKey = pulumi.secret(this.sshKey.privateKeyOpenssh);

    this.cluster = new gcp.container.Cluster(
      name,
      {
        name: args.clusterName,
        project: args.project,
        location: args.location,
        network: args.network,
        subnetwork: args.subnetwork,
        networkingMode: "VPC_NATIVE",
        ipAllocationPolicy: { clusterSecondaryRangeName: args.podsRangeName, servicesSecondaryRangeName: args.servicesRangeName },
        datapathProvider: legacyDatapath,
        // Otherwise `pulumi destroy` refuses to delete the cluster.
        deletionProtection: false,
        // GKE always creates a default pool first; we delete it right after and use our own pool.
        removeDefaultNodePool: true,
        initialNodeCount: 1,
        // Used only by that short-lived default pool. Unset, GKE gives it the Compute Engine default
        // service account, and the cluster cannot be created in projects where that account was
        // deleted or disabled ("Service account ...-compute@developer.gserviceaccount.com does not
        // exist"). ignoreChanges below: once the default pool is gone this block describes nothing.
        nodeConfig: {
          serviceAccount: this.nodeServiceAccount.email,
          oauthScopes: ["https://www.googleapis.com/auth/cloud-platform"],
        },
        // The GKE Ingress controller lives in this add-on.
        addonsConfig: { httpLoadBalancing: { disabled: false } },
        resourceLabels: args.labels,
      },
      { parent: this, dependsOn: afterServiceAccount, ignoreChanges: ["nodeConfig"] },
    );

    this.nodePool = new gcp.container.NodePool(
      `${name}-pool`,
      {
        name: args.nodePoolName,
        project: args.project,
        location: args.location,
        cluster: this.cluster.name,
        nodeCount: args.nodesPerZone,
        management: { autoRepair: true, autoUpgrade: true },
        nodeConfig: {
          machineType: args.machineType,
          imageType: nodeImageType,
          spot: args.spot,
          diskSizeGb: 30,
          diskType: "pd-standard",
          serviceAccount: this.nodeServiceAccount.email,
          // Access is limited by the service account's IAM roles, not by legacy scopes.
          oauthScopes: ["https://www.googleapis.com/auth/cloud-platform"],
          tags: [args.nodeTag],
          // No node-level resourceLabels: GKE propagates the cluster's labels to the node VMs and adds
          // its own goog-gke-* ones there, which a node-level label map could report as drift.
          metadata: {
            "ssh-keys": pulumi.interpolate`${args.sshUser}:${this.sshKey.publicKeyOpenssh.apply((k) => k.trim())} ${args.sshUser}`,
            // The guest agent publishes the node's SSH host keys under guest attributes hostkeys/;
            // the verifier checks the host key it sees against them.
            "enable-guest-attributes": "TRUE",
            // No "enable-oslogin" here: GKE reserves that key on node pools and rejects the pool
            // ("cannot be the reserved key"), see the NodeConfig.metadata reference.
            // GKE sets this itself; leaving it out would make the provider try to unset it.
            "disable-legacy-endpoints": "true",
          },
        },
      },
      { parent: this, dependsOn: afterServiceAccount },
    );

    this.kubeconfig = pulumi.secret(
      pulumi
        .all([this.cluster.name, this.cluster.endpoint, this.cluster.masterAuth])
        .apply(([clusterName, endpoint, masterAuth]) =>
          gkeKubeconfig({ project: args.project, location: args.location, clusterName, endpoint, caData: masterAuth.clusterCaCertificate }),
        ),
    );

    // Depending on the node pool orders `pulumi destroy`: every Kubernetes resource (the Ingress
    // first, whose finalizer lets the controller delete the load balancer) goes before the node
    // pool, and the node pool before the cluster.
    this.kubernetesProvider = new k8s.Provider(`${name}-k8s`, { kubeconfig: this.kubeconfig }, { parent: this, dependsOn: [this.nodePool] });

    this.registerOutputs({
      clusterName: this.cluster.name,
      endpoint: this.cluster.endpoint,
      nodePoolName: this.nodePool.name,
      nodeServiceAccount: this.nodeServiceAccount.email,
      kubeconfig: this.kubeconfig,
      sshPrivateKey: this.sshPrivateKey,
    });
  }
}

export interface KubeconfigInput {
  project: string;
  location: string;
  clusterName: string;
  /** IP or host of the control plane, as GKE reports `endpoint` (no scheme). */
  endpoint: string;
  /** base64 PEM of the cluster CA. */
  caData: string;
}

/** A kubeconfig like `gcloud container clusters get-credentials` writes: exec gke-gcloud-auth-plugin (with ADC). */
export function gkeKubeconfig(input: KubeconfigInput): string {
  const context = `gke_${input.project}_${input.location}_${input.clusterName}`;
  return JSON.stringify(
    {
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: context, cluster: { server: `https://${input.endpoint}`, "certificate-authority-data": input.caData } }],
      users: [
        {
          name: context,
          user: {
            exec: {
              apiVersion: "client.authentication.k8s.io/v1beta1",
              command: "gke-gcloud-auth-plugin",
              // The same Application Default Credentials the Google provider (and the verifier) use,
              // instead of the plugin's default of asking the gcloud CLI's own login.
              args: ["--use_application_default_credentials"],
              installHint: "Install gke-gcloud-auth-plugin: gcloud components install gke-gcloud-auth-plugin",
              provideClusterInfo: true,
              interactiveMode: "Never",
            },
          },
        },
      ],
      contexts: [{ name: context, context: { cluster: context, user: context } }],
      "current-context": context,
    },
    null,
    2,
  );
}
