// `npm run verify`'s live path against machines that really exist: the lab's network namespaces
// (3 nodes with sshd and kube-proxy nat rules, 2 pods) stand in for the GKE node VMs, and the REST
// stand-ins serve a Compute + Kubernetes world laid over them (IPs, host keys, Service, pods).
// Only the Compute root URL and the token are injected; the source functions are the real ones.
import type { LabTopology } from "../../lab/topology";
import { loadLiveSources, type GkeSources } from "../../verifier/verify";
import type { StackOutputs } from "../../verifier/sources/types";
import { buildWorld, type GkeWorld } from "../support/rest-standins/world";
import { startComputeStandin, type ComputeStandin } from "../support/rest-standins/compute";
import { startKubeStandin, type KubeStandin } from "../support/rest-standins/kube";

/** The GKE world of the article, with the lab's nodes, host keys, Service and pods in it. */
export function worldOnLab(t: LabTopology, hostKeys: Record<string, string>): GkeWorld {
  return buildWorld({
    nodes: t.nodes.map((n) => {
      const key = hostKeys[n.name];
      if (!key) throw new Error(`the lab recorded no host key for ${n.name}`);
      return { name: n.name, internalIp: n.internalIp, externalIp: n.externalIp, podCidr: n.podCidr, hostKeys: [key] };
    }),
    pods: t.pods.map((p) => ({ name: p.name, ip: p.ip, nodeName: p.nodeName })),
    clusterIP: t.service.clusterIP,
    nodePort: t.service.nodePort,
    servicePort: t.service.port,
    podPort: t.service.podPort,
    // the lab's kube-proxy rules are written for an unnamed port ("default/hello")
    servicePortName: null,
  });
}

export interface Standins {
  compute: ComputeStandin;
  kube: KubeStandin;
  close(): Promise<void>;
}

export async function startStandins(world: GkeWorld): Promise<Standins> {
  const compute = await startComputeStandin(world.compute, { token: world.token });
  const kube = await startKubeStandin(world.kube, { token: world.token }).catch(async (e) => {
    await compute.close();
    throw e;
  });
  return { compute, kube, close: async () => void (await Promise.all([compute.close(), kube.close()])) };
}

/** A kubeconfig shaped like GKE's (CA data, gke-gcloud-auth-plugin), pointing at the stand-in. */
export function kubeconfigFor(server: string): string {
  return [
    "apiVersion: v1",
    "kind: Config",
    "clusters:",
    "- name: gke_ingress-path-demo_us-central1-a_ingress-path",
    "  cluster:",
    `    server: ${server}`,
    "    certificate-authority-data: ZTJlLWR1bW15LWNhLWRhdGEtbm90LWEtY2VydA==",
    "contexts:",
    "- name: gke_ingress-path-demo_us-central1-a_ingress-path",
    "  context: {cluster: gke_ingress-path-demo_us-central1-a_ingress-path, user: gke_ingress-path-demo_us-central1-a_ingress-path}",
    "current-context: gke_ingress-path-demo_us-central1-a_ingress-path",
    "users:",
    "- name: gke_ingress-path-demo_us-central1-a_ingress-path",
    "  user:",
    "    exec:",
    "      apiVersion: client.authentication.k8s.io/v1beta1",
    "      command: gke-gcloud-auth-plugin",
    "      installHint: e2e-kubeconfig-secret-marker",
    "      provideClusterInfo: true",
    "",
  ].join("\n");
}

/** The stack outputs `pulumi up` would print for this world, SSH as root with the lab's client key. */
export function outputsFor(world: GkeWorld, kubeServer: string, url: string, sshPrivateKey: string): StackOutputs {
  const service = world.kube.services[0];
  return {
    url,
    loadBalancerIp: world.loadBalancerIp,
    nodePort: world.nodePort,
    serviceClusterIp: service.spec!.clusterIP!,
    servicePort: world.servicePort,
    podPort: world.podPort,
    project: world.project,
    location: world.zone,
    clusterName: world.clusterName,
    namespace: world.namespace,
    deploymentName: world.deploymentName,
    serviceName: world.serviceName,
    ingressName: world.ingressName,
    nodeTag: world.compute.instances[0].tags!.items![0],
    sshUser: "root",
    kubeconfig: kubeconfigFor(kubeServer),
    sshPrivateKey,
  };
}

/**
 * The live sources, unchanged except that the Compute client is pointed at the stand-in (GcpOptions.rootUrl,
 * which verify.ts leaves open) and Application Default Credentials are never consulted.
 */
export async function sourcesAgainst(computeUrl: string): Promise<GkeSources & { computeCalls: string[] }> {
  const live = await loadLiveSources();
  const computeCalls: string[] = [];
  const rootUrl = `${computeUrl}/`;
  return {
    ...live,
    computeCalls,
    googleAccessToken: async () => {
      throw new Error("the e2e test passes --access-token; Application Default Credentials must not be read");
    },
    collectLoadBalancer: (project, annotations, opts) => {
      computeCalls.push("collectLoadBalancer");
      return live.collectLoadBalancer(project, annotations, { ...opts, rootUrl });
    },
    fetchHostKeys: (project, instances, opts) => {
      computeCalls.push("fetchHostKeys");
      return live.fetchHostKeys(project, instances, { ...opts, rootUrl });
    },
    fetchConsoleHostKeys: (project, instances, opts) => {
      computeCalls.push("fetchConsoleHostKeys");
      return live.fetchConsoleHostKeys!(project, instances, { ...opts, rootUrl });
    },
  };
}
