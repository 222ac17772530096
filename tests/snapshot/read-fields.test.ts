// The per-kind allow-lists (verifier/sources/read-fields.ts): what a snapshot keeps of each object.
import { allowedFields, isReadAnnotation, readAnnotations } from "../../verifier/sources/read-fields";

test("an instance keeps its addresses, tags and service account, not its metadata or disks", () => {
  const instance = {
    kind: "compute#instance",
    name: "node-1",
    selfLink: "https://www.googleapis.com/compute/v1/projects/p/zones/z/instances/node-1",
    tags: { items: ["gke-node"] },
    metadata: { items: [{ key: "kube-env", value: "KUBELET_KEY: abc" }] },
    disks: [{ source: "d" }],
    serviceAccounts: [{ email: "sa@p.iam.gserviceaccount.com", scopes: ["s"] }],
    networkInterfaces: [{ networkIP: "10.0.0.2", fingerprint: "f", accessConfigs: [{ natIP: "34.1.2.3", type: "ONE_TO_ONE_NAT" }] }],
  };
  const { value, dropped, known } = allowedFields(instance);
  expect(known).toBe(true);
  expect(value).toEqual({
    kind: "compute#instance",
    name: "node-1",
    selfLink: instance.selfLink,
    tags: { items: ["gke-node"] },
    serviceAccounts: [{ email: "sa@p.iam.gserviceaccount.com", scopes: ["s"] }],
    networkInterfaces: [{ networkIP: "10.0.0.2", accessConfigs: [{ natIP: "34.1.2.3", type: "ONE_TO_ONE_NAT" }] }],
  });
  expect(dropped).toEqual([
    { object: "compute#instance node-1", field: "metadata" },
    { object: "compute#instance node-1", field: "disks" },
    { object: "compute#instance node-1", field: "networkInterfaces[0].fingerprint" },
  ]);
});

test("a typed PodList: items take the list's kind; env, command and last-applied-configuration dropped; readiness gates kept", () => {
  const list = {
    apiVersion: "v1",
    kind: "PodList",
    metadata: { resourceVersion: "7", continue: "x" },
    items: [
      {
        metadata: { name: "web-1", namespace: "study", labels: { app: "web" }, managedFields: [{}], annotations: { "kubectl.kubernetes.io/last-applied-configuration": "{}", "cloud.google.com/neg-status": "{}" } },
        spec: { nodeName: "n1", readinessGates: [{ conditionType: "cloud.google.com/load-balancer-neg-ready" }], containers: [{ name: "web", image: "i", env: [{ name: "T", value: "v" }], command: ["x"], ports: [{ containerPort: 8080 }] }] },
        status: { podIP: "10.1.0.5", conditions: [{ type: "Ready", status: "True" }], containerStatuses: [{ name: "web", ready: true, state: { running: {} }, imageID: "sha" }] },
      },
    ],
  };
  const { value, dropped } = allowedFields(list);
  expect(value).toEqual({
    apiVersion: "v1",
    kind: "PodList",
    metadata: { resourceVersion: "7" },
    items: [
      {
        metadata: { name: "web-1", namespace: "study", labels: { app: "web" }, annotations: { "cloud.google.com/neg-status": "{}" } },
        spec: { nodeName: "n1", readinessGates: [{ conditionType: "cloud.google.com/load-balancer-neg-ready" }], containers: [{ name: "web", image: "i", ports: [{ containerPort: 8080 }] }] },
        status: { podIP: "10.1.0.5", conditions: [{ type: "Ready", status: "True" }], containerStatuses: [{ name: "web", ready: true }] },
      },
    ],
  });
  expect(dropped.map((d) => `${d.object}: ${d.field}`)).toEqual([
    "Pod study/web-1: metadata.managedFields",
    "Pod study/web-1: metadata.annotations[kubectl.kubernetes.io/last-applied-configuration]",
    "Pod study/web-1: spec.containers[0].env",
    "Pod study/web-1: spec.containers[0].command",
    "Pod study/web-1: status.containerStatuses[0].state",
    "Pod study/web-1: status.containerStatuses[0].imageID",
  ]);
});

test("a kind without a table keeps identity and status only; NEG kinds and aggregated lists are read", () => {
  const deployment = { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web", namespace: "study" }, spec: { template: { spec: { containers: [{ env: [{ name: "T", value: "v" }] }] } } }, status: { readyReplicas: 2 } };
  const unknown = allowedFields(deployment);
  expect(unknown.known).toBe(false);
  expect(unknown.value).toEqual({ apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web", namespace: "study" }, status: { readyReplicas: 2 } });

  const svcneg = { apiVersion: "networking.gke.io/v1beta1", kind: "ServiceNetworkEndpointGroup", metadata: { name: "k8s1-x", namespace: "study" }, spec: {}, status: { networkEndpointGroups: [{ selfLink: "l" }], conditions: [{ type: "Synced", status: "True" }] } };
  expect(allowedFields(svcneg)).toMatchObject({ value: svcneg, dropped: [], known: true });

  const endpoints = { kind: "compute#networkEndpointGroupsListNetworkEndpoints", networkEndpointGroup: "l", items: [{ networkEndpoint: { ipAddress: "10.1.0.5", port: 8080, instance: "n1" }, healths: [{ healthState: "HEALTHY" }] }] };
  expect(allowedFields(endpoints)).toMatchObject({ value: endpoints, dropped: [] });

  const aggregated = { kind: "compute#instanceAggregatedList", items: { "zones/z": { instances: [{ kind: "compute#instance", name: "n1", metadata: { items: [] } }] }, "zones/y": { warning: { code: "NO_RESULTS_ON_PAGE" } } } };
  expect(allowedFields(aggregated).value).toEqual({ kind: "compute#instanceAggregatedList", items: { "zones/z": { instances: [{ kind: "compute#instance", name: "n1" }] }, "zones/y": {} } });
});

test("annotations: the controller's and the NEG ones are read, others are not", () => {
  expect(isReadAnnotation("ingress.kubernetes.io/backends")).toBe(true);
  expect(isReadAnnotation("cloud.google.com/neg-status")).toBe(true);
  expect(isReadAnnotation("kubectl.kubernetes.io/last-applied-configuration")).toBe(false);
  expect(readAnnotations({ "kubernetes.io/ingress.class": "gce", "example.com/token": "x" })).toEqual({ "kubernetes.io/ingress.class": "gce" });
});
