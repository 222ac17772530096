// The Kubernetes source against the API-server stand-in: real @kubernetes/client-node, real HTTP,
// bearer token, Status error bodies.
import { collectKubernetes, kubeAccessFromKubeconfig } from "../../verifier/sources/k8s";
import { silentProgress, type KubeAccess, type KubeNames } from "../../verifier/sources/types";
import { startKubeStandin, type KubeStandin, type KubeStandinOptions } from "../support/rest-standins/kube";
import { buildWorld, withDataplaneV2, withNegBackend, type GkeWorld } from "../support/rest-standins/world";

let standins: KubeStandin[] = [];
afterEach(async () => {
  await Promise.all(standins.map((s) => s.close()));
  standins = [];
});

async function serve(world: GkeWorld, extra: Partial<KubeStandinOptions> = {}): Promise<KubeAccess> {
  const standin = await startKubeStandin(world.kube, { token: world.token, ...extra });
  standins.push(standin);
  return { server: standin.url, token: world.token };
}

function namesOf(world: GkeWorld): KubeNames {
  return { namespace: world.namespace, serviceName: world.serviceName, ingressName: world.ingressName, deploymentName: world.deploymentName };
}

describe("collectKubernetes", () => {
  test("reads Service, EndpointSlices, Pods, Nodes, Ingress and the kube-proxy datapath", async () => {
    const world = buildWorld();
    const access = await serve(world);
    const { value, problems } = await collectKubernetes(access, namesOf(world), silentProgress);
    expect(problems).toEqual([]);
    expect(value?.service).toEqual({
      namespace: "default",
      name: "hello",
      uid: world.kube.services[0].metadata!.uid,
      type: "NodePort",
      clusterIP: "10.8.12.34",
      ports: [{ name: "http", protocol: "TCP", port: 80, targetPort: 8080, nodePort: 30080 }],
      selector: { app: "hello" },
      annotations: { "cloud.google.com/neg": '{"ingress": false}' },
      externalTrafficPolicy: "Cluster",
    });
    expect(value?.endpoints).toEqual([
      { ip: "10.4.0.5", port: 8080, ready: true, serving: true, terminating: false, nodeName: world.nodeNames[0], podName: "hello-6d5f7c8b9-q2w7x" },
      { ip: "10.4.2.7", port: 8080, ready: true, serving: true, terminating: false, nodeName: world.nodeNames[2], podName: "hello-6d5f7c8b9-zr4kp" },
    ]);
    // what a diagnosis compares: phase, declared ports, the readiness probe the health check copies
    expect(value?.pods[0]).toMatchObject({ phase: "Running", containerPorts: [{ name: "http", containerPort: 8080, protocol: "TCP" }], readinessProbe: { path: "/", port: 8080, scheme: "HTTP" } });
    // the controller's events about the Ingress, read the way `kubectl describe ingress` reads them
    expect(value?.events).toEqual([
      { type: "Normal", reason: "Sync", message: "Scheduled for sync", involvedObject: "Ingress/default/hello", count: 1, lastTimestamp: "2026-11-30T09:12:03.000Z", source: "loadbalancer-controller" },
      { type: "Normal", reason: "IPChanged", message: `IP is now ${world.loadBalancerIp}`, involvedObject: "Ingress/default/hello", count: 1, lastTimestamp: "2026-11-30T09:14:41.000Z", source: "loadbalancer-controller" },
    ]);
    expect(standins[0].requests.filter((r) => r.path === "/api/v1/namespaces/default/events").map((r) => r.query.get("fieldSelector")).sort()).toEqual([
      "involvedObject.kind=Ingress,involvedObject.name=hello",
      "involvedObject.kind=Service,involvedObject.name=hello",
    ]);
    // pods by the Service's selector: the two app pods, not the kube-proxy pods
    expect(value?.pods.map((p) => [p.name, p.ip, p.nodeName, p.ready])).toEqual([
      ["hello-6d5f7c8b9-q2w7x", "10.4.0.5", world.nodeNames[0], true],
      ["hello-6d5f7c8b9-zr4kp", "10.4.2.7", world.nodeNames[2], true],
    ]);
    expect(value?.nodes).toEqual(
      world.nodeNames.map((name, i) => ({ name, internalIp: `10.128.0.1${i + 1}`, externalIp: `34.123.10.2${i + 1}`, providerId: `gce://${world.project}/${world.zone}/${name}`, zone: world.zone })),
    );
    expect(value?.ingress).toMatchObject({
      namespace: "default",
      name: "hello",
      className: "gce",
      defaultBackend: { service: "hello", port: 80 },
      loadBalancerIps: [world.loadBalancerIp],
    });
    expect(value?.ingress?.annotations["ingress.kubernetes.io/forwarding-rule"]).toBe(world.names.forwardingRule);
    expect(value?.datapath).toBe("kube-proxy");
    const standin = standins[0];
    expect(standin.requests.find((r) => r.path.endsWith("/endpointslices"))?.query.get("labelSelector")).toBe("kubernetes.io/service-name=hello");
    expect(standin.requests.find((r) => r.path === "/api/v1/namespaces/default/pods")?.query.get("labelSelector")).toBe("app=hello");
  });

  test("a NEG Service: neg-status parsed, svcneg read with its conditions, the pods' readiness gates and conditions", async () => {
    const world = withNegBackend(buildWorld());
    const { value, problems } = await collectKubernetes(await serve(world), namesOf(world), silentProgress);
    expect(problems).toEqual([]);
    expect(value?.negStatus).toMatchObject({ networkEndpointGroups: { "80": "k8s1-5d2c8f3a-default-hello-80-9f2c1d7e" }, zones: ["us-central1-a"] });
    expect(value?.svcNegs?.map((s) => [s.name, s.serviceName, s.conditions.map((c) => `${c.type}=${c.status}`).join(",")])).toEqual([["k8s1-5d2c8f3a-default-hello-80-9f2c1d7e", "hello", "Initialized=True,Synced=True"]]);
    expect(value?.pods[0]?.readinessGates).toEqual(["cloud.google.com/load-balancer-neg-ready"]);
    expect(value?.pods[0]?.conditions?.find((c) => c.type === "cloud.google.com/load-balancer-neg-ready")).toEqual({ type: "cloud.google.com/load-balancer-neg-ready", status: "True", reason: "LoadBalancerNegReady", lastTransitionTime: "2026-11-30T09:15:02.000Z" });
  });

  test("a NEG Service whose svcneg may not be read (403): a Problem naming svcneg, svcNegs unknown (undefined), not empty", async () => {
    const world = withNegBackend(buildWorld());
    const { value, problems } = await collectKubernetes(await serve(world, { forbidden: ["servicenetworkendpointgroups"] }), namesOf(world), silentProgress);
    expect(value?.svcNegs).toBeUndefined();
    expect(problems.map((p) => p.message)).toEqual([expect.stringMatching(/^svcneg .*forbidden \(403\).*conditions are unknown; the NEGs themselves are still judged/)]);
    expect(problems[0]!.hint).toContain("grant list on servicenetworkendpointgroups.networking.gke.io");
    expect(value?.negStatus).toBeDefined();
  });

  test("detects Dataplane V2 (anetd, no kube-proxy)", async () => {
    const world = withDataplaneV2(buildWorld());
    const { value, problems } = await collectKubernetes(await serve(world), namesOf(world), silentProgress);
    expect(problems).toEqual([]);
    expect(value?.datapath).toBe("dataplane-v2");
  });

  test("both kube-proxy and anetd: unknown, with a Problem", async () => {
    const world = buildWorld();
    world.kube.daemonSets.push({ apiVersion: "apps/v1", kind: "DaemonSet", metadata: { name: "anetd", namespace: "kube-system" } });
    const { value, problems } = await collectKubernetes(await serve(world), namesOf(world), silentProgress);
    expect(value?.datapath).toBe("unknown");
    expect(problems.map((p) => p.message)).toEqual([expect.stringContaining("both kube-proxy pods (3) and the anetd DaemonSet")]);
  });

  test("401: every read fails with a hint about the credentials, nothing throws", async () => {
    const world = buildWorld();
    const access = await serve(world);
    const { value, problems } = await collectKubernetes({ ...access, token: "wrong" }, namesOf(world), silentProgress);
    expect(value?.service).toBeUndefined();
    expect(problems.length).toBe(8); // service, slices, nodes, ingress, 2 datapath reads, 2 event reads
    expect(problems.every((p) => p.message.includes("401") && p.hint?.includes("gcloud auth application-default login"))).toBe(true);
  });

  test("404 Service: a Problem naming it; Ingress, Nodes, slices still read", async () => {
    const world = buildWorld();
    world.kube.services = [];
    const { value, problems } = await collectKubernetes(await serve(world), namesOf(world), silentProgress);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ source: "kubernetes", subject: "default/hello", message: expect.stringContaining('services "hello" not found') });
    expect(value?.service).toBeUndefined();
    expect(value?.pods).toEqual([]);
    expect(value?.ingress?.name).toBe("hello");
    expect(value?.nodes).toHaveLength(3);
    expect(value?.endpoints).toHaveLength(2);
  });

  test("403 on pods: the Status message and an RBAC hint; the rest is read", async () => {
    const world = buildWorld();
    const { value, problems } = await collectKubernetes(await serve(world, { forbidden: ["pods"] }), namesOf(world), silentProgress);
    // kube-system pods (datapath) and the app pods
    expect(problems).toHaveLength(2);
    expect(problems[0].message).toMatch(/forbidden \(403\).*cannot list resource "pods"/);
    expect(problems[0].hint).toContain("roles/container.viewer");
    expect(value?.datapath).toBeUndefined();
    expect(value?.service?.clusterIP).toBe("10.8.12.34");
  });

  test("the token is never sent over plain http to a non-local server", async () => {
    const world = buildWorld();
    // refused before any connection is attempted (TEST-NET-1 address, never contacted)
    const { problems } = await collectKubernetes({ server: "http://192.0.2.77", token: world.token }, namesOf(world), silentProgress);
    expect(problems).toHaveLength(1);
    expect(problems[0].message).toContain("refusing to send the bearer token over plain http");
  });

  test("an unreachable API server is a Problem, not a throw", async () => {
    const world = buildWorld();
    const access = await serve(world);
    await standins.pop()!.close();
    const { problems } = await collectKubernetes(access, namesOf(world), silentProgress);
    expect(problems.length).toBeGreaterThan(0);
    expect(problems[0].message).toContain(`no answer from the API server at ${access.server}`);
  });
});

describe("kubeAccessFromKubeconfig", () => {
  const gkeKubeconfig = `apiVersion: v1
kind: Config
clusters:
- cluster:
    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUZBS0U=
    server: https://34.56.78.90
  name: gke_ingress-path-demo_us-central1-a_ingress-path
contexts:
- context:
    cluster: gke_ingress-path-demo_us-central1-a_ingress-path
    user: gke_ingress-path-demo_us-central1-a_ingress-path
  name: gke_ingress-path-demo_us-central1-a_ingress-path
current-context: gke_ingress-path-demo_us-central1-a_ingress-path
users:
- name: gke_ingress-path-demo_us-central1-a_ingress-path
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: gke-gcloud-auth-plugin
      installHint: Install gke-gcloud-auth-plugin for use with kubectl
      provideClusterInfo: true
`;

  test("takes server and CA from the current context, ignores the exec plugin", () => {
    expect(kubeAccessFromKubeconfig(gkeKubeconfig, "ya29.token")).toEqual({
      server: "https://34.56.78.90",
      caData: "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUZBS0U=",
      token: "ya29.token",
    });
  });

  test("a kubeconfig without a current context says so", () => {
    const broken = gkeKubeconfig.replace(/current-context: .*\n/, "").replace(/clusters:[\s\S]*?contexts:/, "clusters: []\ncontexts:");
    expect(() => kubeAccessFromKubeconfig(broken, "t")).toThrow(/no current-context/);
  });

  test("an empty token is refused with the command to get one", () => {
    expect(() => kubeAccessFromKubeconfig(gkeKubeconfig, "")).toThrow(/print-access-token/);
  });
});
