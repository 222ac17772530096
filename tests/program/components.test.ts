// Each component on its own, under Pulumi mocks: what it registers, with which parent and provider.
import * as gcp from "@pulumi/gcp";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { Cluster, nodeServiceAccountRoles, type ClusterArgs } from "../../components/cluster";
import { Ingress } from "../../components/ingress";
import { Network, addressPlan } from "../../components/network";
import { Service } from "../../components/service";
import { Workload } from "../../components/workload";
import { RecordingMocks, isRecordedSecret, mockIds, unwrapSecrets, valueOf, type Registration } from "./harness";

const mocks = new RecordingMocks();
let gcpProvider: gcp.Provider;
let kubeProvider: k8s.Provider;
let gcpProviderUrn: string;
let kubeProviderUrn: string;

beforeAll(async () => {
  await mocks.install();
  gcpProvider = new gcp.Provider("test-gcp", { project: "demo-project-1" });
  kubeProvider = new k8s.Provider("test-k8s", { kubeconfig: "{}" });
  gcpProviderUrn = await valueOf(gcpProvider.urn);
  kubeProviderUrn = await valueOf(kubeProvider.urn);
});

/** Builds a component, waits for all registrations, and returns what it registered below itself. */
async function build<T extends pulumi.ComponentResource>(make: () => T): Promise<{ component: T; urn: string; children: Registration[] }> {
  await mocks.settle();
  mocks.reset();
  const component = make();
  const urn = await valueOf(component.urn);
  await mocks.settle();
  const children = mocks.registrations.filter((r) => mocks.hasAncestor(r, urn));
  return { component, urn, children };
}

function child(children: Registration[], type: string): Registration {
  const found = children.filter((r) => r.type === type);
  expect(found).toHaveLength(1);
  return found[0]!;
}

function expectAllCustomOnProvider(children: Registration[], providerUrn: string, pkg: string) {
  const custom = children.filter((r) => r.custom && r.type.startsWith(`${pkg}:`));
  expect(custom.length).toBeGreaterThan(0);
  for (const r of custom) {
    expect({ resource: `${r.type} ${r.name}`, provider: r.provider.split("::").slice(0, -1).join("::") }).toEqual({
      resource: `${r.type} ${r.name}`,
      provider: providerUrn,
    });
  }
}

describe("Network", () => {
  const args = {
    networkName: "gip-t-net",
    subnetName: "gip-t-nodes",
    firewallName: "gip-t-allow-ssh",
    region: "us-central1",
    nodeTag: "gip-t-node",
    sshSourceRanges: ["35.235.240.0/20", "203.0.113.7/32"],
  };

  test("own VPC, a subnet with pod and service ranges, SSH only from the given ranges to the node tag", async () => {
    const { children } = await build(() => new Network("net", args, { providers: [gcpProvider] }));
    expect(child(children, "gcp:compute/network:Network").inputs).toMatchObject({ name: "gip-t-net", autoCreateSubnetworks: false });
    const subnet = child(children, "gcp:compute/subnetwork:Subnetwork").inputs;
    expect(subnet).toMatchObject({ name: "gip-t-nodes", region: "us-central1", ipCidrRange: addressPlan.nodes });
    expect(subnet.secondaryIpRanges).toEqual([
      { rangeName: "pods", ipCidrRange: addressPlan.pods },
      { rangeName: "services", ipCidrRange: addressPlan.services },
    ]);
    const firewall = child(children, "gcp:compute/firewall:Firewall").inputs;
    expect(firewall).toMatchObject({ direction: "INGRESS", sourceRanges: args.sshSourceRanges, targetTags: ["gip-t-node"] });
    expect(firewall.allows).toEqual([{ protocol: "tcp", ports: ["22"] }]);
    expect(firewall.sourceRanges).not.toContain("0.0.0.0/0");
    expectAllCustomOnProvider(children, gcpProviderUrn, "gcp");
  });

  test("children are parented to the component", async () => {
    const { urn, children } = await build(() => new Network("net2", { ...args, networkName: "n2" }, { providers: [gcpProvider] }));
    expect(children.filter((r) => r.parent === urn)).toHaveLength(3);
  });

  test("refuses to open SSH to 0.0.0.0/0 even when called directly", async () => {
    await mocks.settle();
    expect(() => new Network("net3", { ...args, sshSourceRanges: ["0.0.0.0/0"] }, { providers: [gcpProvider] })).toThrow(/0\.0\.0\.0\/0 refused/);
  });
});

describe("Cluster", () => {
  const args: ClusterArgs = {
    project: "demo-project-1",
    clusterName: "gip-t",
    nodePoolName: "gip-t-pool",
    nodeServiceAccountId: "gip-t-nodes",
    location: "us-central1-a",
    nodesPerZone: 3,
    machineType: "e2-medium",
    spot: true,
    nodeTag: "gip-t-node",
    network: "projects/demo-project-1/global/networks/gip-t-net",
    subnetwork: "projects/demo-project-1/regions/us-central1/subnetworks/gip-t-nodes",
    podsRangeName: "pods",
    servicesRangeName: "services",
    sshUser: "pathcheck",
    labels: { stack: "t" },
  };
  let built: Awaited<ReturnType<typeof build<Cluster>>>;
  beforeAll(async () => {
    built = await build(() => new Cluster("cl", args, { providers: [gcpProvider] }));
  });

  test("GKE with kube-proxy iptables (LEGACY_DATAPATH), no deletion protection, default pool removed", () => {
    const cluster = child(built.children, "gcp:container/cluster:Cluster").inputs;
    expect(cluster).toMatchObject({
      name: "gip-t",
      location: "us-central1-a",
      datapathProvider: "LEGACY_DATAPATH",
      deletionProtection: false,
      removeDefaultNodePool: true,
      networkingMode: "VPC_NATIVE",
      ipAllocationPolicy: { clusterSecondaryRangeName: "pods", servicesSecondaryRangeName: "services" },
      addonsConfig: { httpLoadBalancing: { disabled: false } },
    });
  });

  test("the short-lived default pool uses the node service account, not the Compute Engine default one", () => {
    const cluster = child(built.children, "gcp:container/cluster:Cluster");
    expect(cluster.inputs.nodeConfig).toEqual({
      serviceAccount: "gip-t-nodes@demo-project-1.iam.gserviceaccount.com",
      oauthScopes: ["https://www.googleapis.com/auth/cloud-platform"],
    });
    // After the default pool is removed that block describes nothing: never diff or replace on it.
    expect(cluster.ignoreChanges).toEqual(["nodeConfig"]);
    for (const binding of built.children.filter((r) => r.type === "gcp:projects/iAMMember:IAMMember")) {
      expect(cluster.dependencies).toContain(binding.urn);
    }
  });

  test("node pool: nodesPerZone spot VMs with the network tag, own service account, SSH key and guest attributes", () => {
    const pool = child(built.children, "gcp:container/nodePool:NodePool").inputs;
    expect(pool).toMatchObject({ name: "gip-t-pool", location: "us-central1-a", cluster: "gip-t", nodeCount: 3 });
    expect(pool.nodeConfig).toMatchObject({
      machineType: "e2-medium",
      // the image whose guest agent publishes SSH host keys for the verifier to check
      imageType: "UBUNTU_CONTAINERD",
      spot: true,
      tags: ["gip-t-node"],
      serviceAccount: "gip-t-nodes@demo-project-1.iam.gserviceaccount.com",
    });
    expect(pool.nodeConfig.metadata).toEqual({
      "ssh-keys": `pathcheck:${mockIds.publicKey} pathcheck`,
      "enable-guest-attributes": "TRUE",
      "disable-legacy-endpoints": "true",
    });
  });

  test("node metadata uses none of the keys GKE reserves on node pools (the API rejects the pool)", () => {
    // The reserved keys of the GKE API reference, NodeConfig.metadata.
    const reserved = [
      "cluster-location", "cluster-name", "cluster-uid", "configure-sh", "containerd-configure-sh",
      "enable-oslogin", "enable-os-login", "gci-ensure-gke-docker", "gci-metrics-enabled", "gci-update-strategy",
      "instance-template", "kube-env", "startup-script", "user-data", "disable-address-manager",
      "windows-startup-script-ps1", "common-psm1", "k8s-node-setup-psm1", "install-ssh-psm1", "user-profile-psm1",
      "serial-port-logging-enable",
    ];
    const keys = Object.keys(child(built.children, "gcp:container/nodePool:NodePool").inputs.nodeConfig.metadata);
    expect(keys.filter((k) => reserved.includes(k))).toEqual([]);
  });

  test("the node service account gets only least-privilege roles", () => {
    const bindings = built.children.filter((r) => r.type === "gcp:projects/iAMMember:IAMMember").map((r) => r.inputs);
    const allowed = [...nodeServiceAccountRoles, "roles/artifactregistry.reader"];
    expect(bindings.length).toBeGreaterThan(0);
    for (const b of bindings) {
      expect(allowed).toContain(b.role);
      expect(b.member).toBe("serviceAccount:gip-t-nodes@demo-project-1.iam.gserviceaccount.com");
    }
  });

  test("the SSH key pair is an ED25519 resource; private key and kubeconfig are secrets", async () => {
    expect(child(built.children, "tls:index/privateKey:PrivateKey").inputs).toEqual({ algorithm: "ED25519" });
    expect(await pulumi.isSecret(built.component.sshPrivateKey)).toBe(true);
    expect(await pulumi.isSecret(built.component.kubeconfig)).toBe(true);
    expect(await valueOf(built.component.sshPrivateKey)).toBe(mockIds.privateKey);
  });

  test("kubeconfig authenticates with gke-gcloud-auth-plugin against the cluster endpoint and CA", async () => {
    const kubeconfig = JSON.parse(await valueOf(built.component.kubeconfig));
    expect(kubeconfig.clusters[0].cluster).toEqual({ server: `https://${mockIds.clusterEndpoint}`, "certificate-authority-data": mockIds.clusterCa });
    expect(kubeconfig.users[0].user.exec).toMatchObject({
      command: "gke-gcloud-auth-plugin",
      args: ["--use_application_default_credentials"],
      apiVersion: "client.authentication.k8s.io/v1beta1",
    });
    expect(kubeconfig["current-context"]).toBe("gke_demo-project-1_us-central1-a_gip-t");
  });

  test("the Kubernetes provider is built from that kubeconfig (as a secret) and depends on the node pool", () => {
    const provider = child(built.children, "pulumi:providers:kubernetes");
    const pool = child(built.children, "gcp:container/nodePool:NodePool");
    expect(provider.dependencies).toContain(pool.urn);
    expect(isRecordedSecret(provider.inputs.kubeconfig)).toBe(true);
    expect(JSON.parse(unwrapSecrets(provider.inputs.kubeconfig)).users[0].user.exec.command).toBe("gke-gcloud-auth-plugin");
  });

  test("the node pool waits for the IAM bindings; every child is parented to the component and on the given provider", () => {
    const pool = child(built.children, "gcp:container/nodePool:NodePool");
    for (const binding of built.children.filter((r) => r.type === "gcp:projects/iAMMember:IAMMember")) {
      expect(pool.dependencies).toContain(binding.urn);
    }
    expect(built.children.every((r) => r.parent === built.urn)).toBe(true);
    expectAllCustomOnProvider(built.children, gcpProviderUrn, "gcp");
  });

  test("cluster and node pool wait 60 s after the node service account and its grants (IAM is eventually consistent)", () => {
    const sleep = child(built.children, "time:index/sleep:Sleep");
    const account = child(built.children, "gcp:serviceaccount/account:Account");
    const bindings = built.children.filter((r) => r.type === "gcp:projects/iAMMember:IAMMember");
    expect(sleep.inputs.createDuration).toBe("60s");
    // Re-created (so waited for again) only when the account is: a second `up` waits for nothing.
    expect(sleep.inputs.triggers).toEqual({ email: "gip-t-nodes@demo-project-1.iam.gserviceaccount.com" });
    expect(sleep.inputs.destroyDuration).toBeUndefined();
    expect(sleep.dependencies).toEqual(expect.arrayContaining([account.urn, ...bindings.map((b) => b.urn)]));
    for (const type of ["gcp:container/cluster:Cluster", "gcp:container/nodePool:NodePool"]) {
      expect(child(built.children, type).dependencies).toContain(sleep.urn);
    }
  });

  test("a regional pool gets the per-zone count it is given", async () => {
    const regional = await build(() => new Cluster("cl-r", { ...args, location: "us-central1", nodesPerZone: 1 }, { providers: [gcpProvider] }));
    expect(child(regional.children, "gcp:container/nodePool:NodePool").inputs).toMatchObject({ location: "us-central1", nodeCount: 1 });
  });
});

describe("Workload", () => {
  const labels = { app: "hello", "app.kubernetes.io/part-of": "gke-ingress-path" };
  const args = { namespace: "default", deploymentName: "hello", containerName: "hello", portName: "http", podLabels: labels, replicas: 2, image: "example/hello:1", podPort: 8080 };

  test("replicas pods of the image on podPort, one per node, readiness on /, requests, PORT", async () => {
    const { urn, children } = await build(() => new Workload("wl", args, { providers: [kubeProvider] }));
    const deployment = child(children, "kubernetes:apps/v1:Deployment");
    expect(deployment.parent).toBe(urn);
    expect(deployment.provider.startsWith(`${kubeProviderUrn}::`)).toBe(true);
    const spec = deployment.inputs.spec;
    expect(spec.replicas).toBe(2);
    expect(spec.selector.matchLabels).toEqual(labels);
    expect(spec.template.metadata.labels).toEqual(labels);
    expect(spec.template.spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution).toEqual([
      { topologyKey: "kubernetes.io/hostname", labelSelector: { matchLabels: labels } },
    ]);
    expect(spec.strategy.rollingUpdate).toEqual({ maxSurge: 0, maxUnavailable: 1 });
    const [container] = spec.template.spec.containers;
    expect(container).toMatchObject({ image: "example/hello:1", ports: [{ name: "http", containerPort: 8080, protocol: "TCP" }] });
    expect(container.readinessProbe.httpGet).toEqual({ path: "/", port: 8080 });
    expect(container.env).toContainEqual({ name: "PORT", value: "8080" });
    expect(container.resources.requests).toEqual({ cpu: expect.any(String), memory: expect.any(String) });
  });
});

describe("Service", () => {
  const args = {
    namespace: "default",
    serviceName: "hello",
    portName: "http",
    selector: { app: "hello" },
    servicePort: 80,
    podPort: 8080,
    nodePort: undefined,
    backendMode: "instance-group" as const,
  };

  test("NodePort s-port -> p-port, Kubernetes picks n-port, NEG off for instance-group mode", async () => {
    const { component, urn, children } = await build(() => new Service("svc", args, { providers: [kubeProvider] }));
    const service = child(children, "kubernetes:core/v1:Service");
    expect(service.parent).toBe(urn);
    expect(service.provider.startsWith(`${kubeProviderUrn}::`)).toBe(true);
    expect(service.inputs.metadata.annotations).toEqual({ "cloud.google.com/neg": '{"ingress":false}' });
    expect(service.inputs.spec).toMatchObject({ type: "NodePort", selector: { app: "hello" }, externalTrafficPolicy: "Cluster" });
    expect(service.inputs.spec.ports).toEqual([{ name: "http", protocol: "TCP", port: 80, targetPort: 8080 }]);
    expect(await valueOf(component.nodePort)).toBe(mockIds.pickedNodePort);
    expect(await valueOf(component.clusterIp)).toBe(mockIds.serviceClusterIp);
  });

  test("neg mode turns container-native load balancing on; a configured nodePort is used", async () => {
    const { component, children } = await build(() => new Service("svc-neg", { ...args, backendMode: "neg", nodePort: 30080 }, { providers: [kubeProvider] }));
    const service = child(children, "kubernetes:core/v1:Service");
    expect(JSON.parse(service.inputs.metadata.annotations["cloud.google.com/neg"])).toEqual({ ingress: true });
    expect(service.inputs.spec.ports[0].nodePort).toBe(30080);
    expect(await valueOf(component.nodePort)).toBe(30080);
  });
});

describe("Ingress", () => {
  test("class gce by annotation (GKE ignores ingressClassName), default backend = Service on s-port, no skipAwait", async () => {
    const { component, urn, children } = await build(
      () => new Ingress("ing", { namespace: "default", ingressName: "hello", ingressClass: "gce", serviceName: "hello", servicePort: 80 }, { providers: [kubeProvider] }),
    );
    const ingress = child(children, "kubernetes:networking.k8s.io/v1:Ingress");
    expect(ingress.parent).toBe(urn);
    expect(ingress.provider.startsWith(`${kubeProviderUrn}::`)).toBe(true);
    expect(ingress.inputs.metadata.annotations).toEqual({ "kubernetes.io/ingress.class": "gce" });
    expect(ingress.inputs.spec.ingressClassName).toBeUndefined();
    expect(ingress.inputs.spec.defaultBackend).toEqual({ service: { name: "hello", port: { number: 80 } } });
    expect(ingress.inputs.spec.rules).toBeUndefined();
    expect(await valueOf(component.loadBalancerIp)).toBe(mockIds.loadBalancerIp);
  });
});
