// The whole stack under Pulumi mocks: the resource graph `pulumi up` would build, per config.
import * as pulumi from "@pulumi/pulumi";
import { parseConfig } from "../../components/config";
import { cloudNames, podLabels } from "../../components/names";
import { createIngressPath } from "../../components/stack";
import { RecordingMocks, mockIds, rawConfig, valueOf, type Registration } from "./harness";

const mocks = new RecordingMocks();
beforeAll(() => mocks.install());

async function buildStack(values: Record<string, string>, stack = "dev") {
  const { config, issues } = parseConfig(rawConfig(values));
  expect(issues).toEqual([]);
  await mocks.settle();
  mocks.reset();
  const built = createIngressPath(config!, stack);
  // Resolving every output waits for the whole graph (the URL needs the Ingress, which waits for the Deployment).
  await Promise.all(Object.values(built.outputs).map((o) => (pulumi.Output.isInstance(o) ? valueOf(o as pulumi.Output<unknown>) : o)));
  await mocks.settle();
  return { ...built, graph: [...mocks.registrations] };
}

function only(graph: Registration[], type: string): Registration {
  const found = graph.filter((r) => r.type === type);
  expect(found.map((r) => r.name)).toHaveLength(1);
  return found[0]!;
}

const types = {
  cluster: "gcp:container/cluster:Cluster",
  nodePool: "gcp:container/nodePool:NodePool",
  firewall: "gcp:compute/firewall:Firewall",
  kubeProvider: "pulumi:providers:kubernetes",
  gcpProvider: "pulumi:providers:gcp",
  deployment: "kubernetes:apps/v1:Deployment",
  service: "kubernetes:core/v1:Service",
  ingress: "kubernetes:networking.k8s.io/v1:Ingress",
};

describe("default config (zonal, instance groups)", () => {
  let built: Awaited<ReturnType<typeof buildStack>>;
  beforeAll(async () => {
    built = await buildStack({});
  });

  test("cluster: legacy datapath, no deletion protection; zonal pool holds all nodeCount nodes", () => {
    expect(only(built.graph, types.cluster).inputs).toMatchObject({ datapathProvider: "LEGACY_DATAPATH", deletionProtection: false, location: "us-central1-a" });
    expect(only(built.graph, types.nodePool).inputs).toMatchObject({ nodeCount: 3, location: "us-central1-a" });
  });

  test("Service: NodePort, selector == pod labels, targetPort == containerPort, NEG off", () => {
    const service = only(built.graph, types.service).inputs;
    const pod = only(built.graph, types.deployment).inputs.spec.template;
    expect(service.spec.type).toBe("NodePort");
    expect(service.spec.selector).toEqual(pod.metadata.labels);
    expect(pod.metadata.labels).toEqual(podLabels);
    expect(service.spec.ports[0].targetPort).toBe(pod.spec.containers[0].ports[0].containerPort);
    expect(service.metadata.annotations["cloud.google.com/neg"]).toBe('{"ingress":false}');
  });

  test("Ingress backend == the Service's name and port", () => {
    const ingress = only(built.graph, types.ingress).inputs;
    const service = only(built.graph, types.service).inputs;
    expect(ingress.spec.defaultBackend.service).toEqual({ name: service.metadata.name, port: { number: service.spec.ports[0].port } });
  });

  test("SSH is never open to 0.0.0.0/0 and targets the node tag the pool carries", () => {
    const firewalls = built.graph.filter((r) => r.type === types.firewall);
    expect(firewalls).toHaveLength(1);
    for (const fw of firewalls) {
      expect(fw.inputs.sourceRanges).not.toContain("0.0.0.0/0");
      expect(fw.inputs.sourceRanges.every((cidr: string) => !cidr.endsWith("/0"))).toBe(true);
      expect(fw.inputs.targetTags).toEqual(only(built.graph, types.nodePool).inputs.nodeConfig.tags);
    }
  });

  test("every Kubernetes resource uses the cluster's Kubernetes provider, every Google resource the explicit gcp provider", () => {
    const kubeProviderUrn = only(built.graph, types.kubeProvider).urn;
    const gcpProviderUrn = only(built.graph, types.gcpProvider).urn;
    const kubeResources = built.graph.filter((r) => r.custom && r.type.startsWith("kubernetes:"));
    const gcpResources = built.graph.filter((r) => r.custom && r.type.startsWith("gcp:"));
    expect(kubeResources.map((r) => r.type).sort()).toEqual([types.deployment, types.ingress, types.service].sort());
    expect(gcpResources.length).toBeGreaterThanOrEqual(9);
    for (const r of kubeResources) expect(r.provider.startsWith(`${kubeProviderUrn}::`)).toBe(true);
    for (const r of gcpResources) expect(r.provider.startsWith(`${gcpProviderUrn}::`)).toBe(true);
  });

  test("destroy order: Ingress -> (provider) -> node pool -> cluster; the Ingress waits for the Deployment", () => {
    const provider = only(built.graph, types.kubeProvider);
    const pool = only(built.graph, types.nodePool);
    const cluster = only(built.graph, types.cluster);
    const ingress = only(built.graph, types.ingress);
    expect(provider.dependencies).toContain(pool.urn);
    expect(pool.dependencies).toContain(cluster.urn);
    expect(ingress.provider.startsWith(`${provider.urn}::`)).toBe(true);
    expect(ingress.dependencies).toContain(only(built.graph, types.deployment).urn);
    expect(ingress.inputs.metadata.annotations["pulumi.com/skipAwait"]).toBeUndefined();
  });

  test("every resource is a child of one of the five components (plus the gcp provider at the top)", () => {
    const components = built.graph.filter((r) => r.type.startsWith("gke-ingress-path:"));
    expect(components.map((c) => c.type).sort()).toEqual(
      ["cluster:Cluster", "ingress:Ingress", "network:Network", "service:Service", "workload:Workload"].map((t) => `gke-ingress-path:${t}`),
    );
    const componentUrns = new Set(components.map((c) => c.urn));
    const topLevel = built.graph.filter((r) => !componentUrns.has(r.parent)).map((r) => r.type);
    expect(topLevel.sort()).toEqual([types.gcpProvider, ...components.map((c) => c.type)].sort());
  });

  test("outputs: values flow from the resources; kubeconfig and sshPrivateKey are secrets, nothing else is", async () => {
    const o = built.outputs;
    expect(await valueOf(o.url)).toBe(`http://${mockIds.loadBalancerIp}/`);
    expect(await valueOf(o.nodePort)).toBe(mockIds.pickedNodePort);
    expect(await valueOf(o.serviceClusterIp)).toBe(mockIds.serviceClusterIp);
    expect(await valueOf(o.clusterName)).toBe(cloudNames("dev").cluster);
    expect(o.nodeTag).toBe(cloudNames("dev").nodeTag);
    expect(await pulumi.isSecret(o.kubeconfig)).toBe(true);
    expect(await pulumi.isSecret(o.sshPrivateKey)).toBe(true);
    for (const name of ["url", "loadBalancerIp", "nodePort", "serviceClusterIp", "clusterName", "deploymentName", "serviceName", "ingressName"] as const) {
      expect({ name, secret: await pulumi.isSecret(o[name] as pulumi.Output<unknown>) }).toEqual({ name, secret: false });
    }
  });
});

test("the same config registers exactly the same resources and inputs twice (nothing random or time-based)", async () => {
  const strip = (graph: Registration[]) => graph.map(({ type, name, inputs, dependencies }) => ({ type, name, inputs, dependencies: [...dependencies].sort() }));
  const first = strip((await buildStack({ nodePort: "30080" })).graph);
  const second = strip((await buildStack({ nodePort: "30080" })).graph);
  const byKey = (a: { type: string; name: string }, b: { type: string; name: string }) => `${a.type}${a.name}`.localeCompare(`${b.type}${b.name}`);
  expect(second.sort(byKey)).toEqual(first.sort(byKey));
  expect(first.length).toBeGreaterThan(15);
});

describe("other configs", () => {
  test("a region: the pool's nodeCount is per zone (6 nodes -> 2 in each of 3 zones), the subnet is in that region", async () => {
    const built = await buildStack({ location: "europe-west4", nodeCount: "6" });
    expect(only(built.graph, types.nodePool).inputs).toMatchObject({ location: "europe-west4", nodeCount: 2 });
    expect(only(built.graph, "gcp:compute/subnetwork:Subnetwork").inputs.region).toBe("europe-west4");
  });

  test("a zone in another region: the subnet follows the zone's region", async () => {
    const built = await buildStack({ location: "asia-east1-b", nodeCount: "4", replicas: "4" });
    expect(only(built.graph, types.nodePool).inputs.nodeCount).toBe(4);
    expect(only(built.graph, "gcp:compute/subnetwork:Subnetwork").inputs.region).toBe("asia-east1");
    expect(only(built.graph, types.deployment).inputs.spec.replicas).toBe(4);
  });

  test("backendMode neg and a fixed nodePort", async () => {
    const built = await buildStack({ backendMode: "neg", nodePort: "30080", servicePort: "8081", podPort: "9000" });
    const service = only(built.graph, types.service).inputs;
    expect(JSON.parse(service.metadata.annotations["cloud.google.com/neg"])).toEqual({ ingress: true });
    expect(service.spec.ports[0]).toMatchObject({ port: 8081, targetPort: 9000, nodePort: 30080 });
    expect(only(built.graph, types.ingress).inputs.spec.defaultBackend.service.port).toEqual({ number: 8081 });
    expect(await valueOf(built.outputs.nodePort)).toBe(30080);
  });

  test("on-demand nodes when spot is false", async () => {
    const built = await buildStack({ spot: "false" });
    expect(only(built.graph, types.nodePool).inputs.nodeConfig.spot).toBe(false);
  });
});
