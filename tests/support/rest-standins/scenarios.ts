// Broken (and real-world-shaped) variants of the stand-in world, one cause or one kind of object
// each, as the Compute and Kubernetes APIs would show them. Messages quoted in events are
// ingress-gce's own (pkg/controller/errors/errors.go, pkg/controller/controller.go).
import type { compute_v1 } from "@googleapis/compute";
import { ingressEvent, selfLink, type GkeWorld } from "./world";


/** Every backend of the Service's backend service UNHEALTHY (what a firewall or health check fault looks like from getHealth). */
export function allUnhealthy(w: GkeWorld, backendService = w.names.backendService): GkeWorld {
  for (const entries of Object.values(w.compute.health[backendService] ?? {})) for (const e of entries) e.healthState = "UNHEALTHY";
  return w;
}

/** The health check asks another path than the pods' readiness probe (which answers 200 on /healthz). */
export function withHealthCheckPath(w: GkeWorld, requestPath: string, probePath: string): GkeWorld {
  const hc = w.compute.healthChecks.find((h) => h.name === w.names.backendService)!;
  hc.httpHealthCheck!.requestPath = requestPath;
  for (const pod of w.kube.pods.filter((p) => p.metadata?.labels?.app === "hello")) pod.spec!.containers[0].readinessProbe!.httpGet!.path = probePath;
  return allUnhealthy(w);
}

/** The health check probes a fixed port other than n-port. */
export function withHealthCheckPort(w: GkeWorld, port: number): GkeWorld {
  const hc = w.compute.healthChecks.find((h) => h.name === w.names.backendService)!;
  hc.httpHealthCheck!.port = port;
  hc.httpHealthCheck!.portSpecification = "USE_FIXED_PORT";
  return allUnhealthy(w);
}

export function withoutHealthCheckFirewall(w: GkeWorld): GkeWorld {
  w.compute.firewalls = w.compute.firewalls.filter((f) => f.name !== w.names.firewall);
  return allUnhealthy(w);
}

export function withFirewallInNetwork(w: GkeWorld, network: string): GkeWorld {
  w.compute.firewalls.find((f) => f.name === w.names.firewall)!.network = selfLink(w.project, `global/networks/${network}`);
  return allUnhealthy(w);
}

export function withFirewallDisabled(w: GkeWorld): GkeWorld {
  w.compute.firewalls.find((f) => f.name === w.names.firewall)!.disabled = true;
  return allUnhealthy(w);
}

/** A deny-all-ingress rule at a better priority than the controller's allow rule (a common hardening step). */
export function withDenyRule(w: GkeWorld, priority = 900): GkeWorld {
  const allow = w.compute.firewalls.find((f) => f.name === w.names.firewall)!;
  w.compute.firewalls.push({
    kind: "compute#firewall",
    name: "deny-all-ingress",
    selfLink: selfLink(w.project, "global/firewalls/deny-all-ingress"),
    network: allow.network,
    direction: "INGRESS",
    priority,
    sourceRanges: ["0.0.0.0/0"],
    denied: [{ IPProtocol: "all" }],
    disabled: false,
  });
  return allUnhealthy(w);
}

/** One zone's instance group lost its named port (or maps it to another port). */
export function withNamedPort(w: GkeWorld, zone: string, port: number | undefined): GkeWorld {
  const group = w.compute.instanceGroups.find((g) => g.zone?.endsWith(`/zones/${zone}`));
  if (!group) throw new Error(`no instance group in ${zone}`);
  const name = `port${w.nodePort}`;
  group.namedPorts = (group.namedPorts ?? []).filter((p) => p.name !== name);
  if (port !== undefined) group.namedPorts.push({ name, port });
  const link = group.selfLink!;
  for (const e of w.compute.health[w.names.backendService]?.[link] ?? []) e.healthState = "UNHEALTHY";
  return w;
}

/** The Service is ClusterIP: the controller refuses it and says so in a Warning event; no LB is made. */
export function withClusterIpService(w: GkeWorld): GkeWorld {
  const svc = w.kube.services[0];
  svc.spec!.type = "ClusterIP";
  for (const p of svc.spec!.ports ?? []) delete p.nodePort;
  delete svc.spec!.externalTrafficPolicy;
  svc.metadata!.annotations = {};
  noLoadBalancer(w);
  w.kube.events = [
    ingressEvent(w.namespace, w.ingressName, "Normal", "Sync", "Scheduled for sync", "2026-11-30T09:12:03Z"),
    { ...ingressEvent(w.namespace, w.ingressName, "Warning", "Translate", `Translation failed: invalid ingress spec: service "${w.namespace}/${w.serviceName}" is type "ClusterIP", expected "NodePort" or "LoadBalancer" when not using NEGs`, "2026-11-30T09:12:04Z"), count: 7 },
  ];
  return w;
}

/** The Ingress names a Service that does not exist. */
export function withIngressServiceMissing(w: GkeWorld, missing = "helo"): GkeWorld {
  w.kube.ingresses[0].spec!.defaultBackend!.service!.name = missing;
  noLoadBalancer(w);
  w.kube.events = [
    { ...ingressEvent(w.namespace, w.ingressName, "Warning", "Translate", `Translation failed: invalid ingress spec: could not find service "${w.namespace}/${missing}"`, "2026-11-30T09:12:04Z"), count: 3 },
  ];
  return w;
}

/** A gce-internal Ingress whose region has no proxy-only subnet: the controller's sync fails. */
export function withInternalIngressNoProxySubnet(w: GkeWorld): GkeWorld {
  w.kube.ingresses[0].metadata!.annotations!["kubernetes.io/ingress.class"] = "gce-internal";
  noLoadBalancer(w);
  w.kube.events = [
    {
      ...ingressEvent(
        w.namespace,
        w.ingressName,
        "Warning",
        "Sync",
        "Error syncing to GCP: error running load balancer syncing routine: loadbalancer 5d2c8f3a-default-hello-4wlhd1q9 does not exist: googleapi: Error 400: Invalid value for field 'resource.target': 'https://www.googleapis.com/compute/v1/projects/ingress-path-demo/regions/us-central1/targetHttpProxies/k8s2-tp-tq8v0zk3-default-hello-4wlhd1q9'. An active proxy-only subnetwork is required in the same region and VPC as the forwarding rule., invalid",
        "2026-11-30T09:13:10Z",
      ),
      count: 12,
    },
  ];
  return w;
}

function noLoadBalancer(w: GkeWorld): void {
  const annotations = w.kube.ingresses[0].metadata!.annotations!;
  for (const key of Object.keys(annotations)) if (key.startsWith("ingress.kubernetes.io/")) delete annotations[key];
  w.kube.ingresses[0].status = { loadBalancer: {} };
  w.compute.forwardingRules = [];
  w.compute.targetHttpProxies = [];
  w.compute.urlMaps = [];
}

export function withSelector(w: GkeWorld, selector: Record<string, string>): GkeWorld {
  w.kube.services[0].spec!.selector = selector;
  w.kube.endpointSlices[0].endpoints = [];
  return allUnhealthy(w);
}

/** A node the controller has not (or no longer) put in its zone's instance group. */
export function withNodeOutsideGroup(w: GkeWorld, nodeIndex: number): GkeWorld {
  const node = w.nodeNames[nodeIndex];
  for (const [link, members] of Object.entries(w.compute.instanceGroupMembers)) w.compute.instanceGroupMembers[link] = members.filter((m) => m !== node);
  for (const groups of Object.values(w.compute.health)) for (const [link, entries] of Object.entries(groups)) groups[link] = entries.filter((e) => !e.instance?.endsWith(`/${node}`));
  return w;
}

/** The pods run but fail their readiness probe: EndpointSlices list them not ready. */
export function withPodsNotReady(w: GkeWorld): GkeWorld {
  for (const slice of w.kube.endpointSlices) for (const e of slice.endpoints ?? []) e.conditions = { ready: false, serving: false, terminating: false };
  for (const pod of w.kube.pods.filter((p) => p.metadata?.labels?.app === "hello")) pod.status!.conditions = [{ type: "Ready", status: "False" }, { type: "ContainersReady", status: "False" }];
  return allUnhealthy(w);
}

export function withNamedTargetPort(w: GkeWorld, name: string): GkeWorld {
  w.kube.services[0].spec!.ports![0].targetPort = name;
  w.kube.endpointSlices[0].endpoints = [];
  return allUnhealthy(w);
}

export function withPodPending(w: GkeWorld, podIndex: number): GkeWorld {
  const pods = w.kube.pods.filter((p) => p.metadata?.labels?.app === "hello");
  pods[podIndex].status = { phase: "Pending", conditions: [{ type: "PodScheduled", status: "False", reason: "Unschedulable" }] };
  const ip = pods[podIndex].spec!.nodeName;
  pods[podIndex].spec!.nodeName = undefined;
  w.kube.endpointSlices[0].endpoints = (w.kube.endpointSlices[0].endpoints ?? []).filter((e) => e.nodeName !== ip);
  return w;
}

// ---------------------------------------------------------------- real shapes (issue "verify the Ingress a user already has")

/**
 * The Ingress routes with rules (host "*", path "/*") instead of a default backend: the URL map's
 * defaultService is kube-system's default-http-backend and a path matcher sends "/*" to the Service.
 * Links are written with compute/beta, as objects read through the beta API or gcloud beta are.
 */
export function withPathMatcher(w: GkeWorld): GkeWorld {
  const beta = (path: string) => selfLink(w.project, path).replace("/compute/v1/", "/compute/beta/");
  const ingress = w.kube.ingresses[0];
  delete ingress.spec!.defaultBackend;
  ingress.spec!.rules = [{ http: { paths: [{ path: "/*", pathType: "ImplementationSpecific", backend: { service: { name: w.serviceName, port: { number: w.servicePort } } } }] } }];
  const um = w.compute.urlMaps[0];
  um.defaultService = beta(`global/backendServices/${w.names.defaultHttpBackend}`);
  um.hostRules = [{ hosts: ["*"], pathMatcher: "host1928b4b3d7af7e9c" }];
  um.pathMatchers = [
    {
      name: "host1928b4b3d7af7e9c",
      defaultService: beta(`global/backendServices/${w.names.defaultHttpBackend}`),
      pathRules: [{ paths: ["/*"], service: beta(`global/backendServices/${w.names.backendService}`) }],
    },
  ];
  w.kube.ingresses[0].metadata!.annotations!["ingress.kubernetes.io/backends"] = JSON.stringify({ [w.names.backendService]: "HEALTHY", [w.names.defaultHttpBackend]: "HEALTHY" });
  return w;
}

/** cert-manager's HTTP-01 solver: one more path on a NEG backend service; the Service's own path stays on instance groups. */
export function withSolverNeg(w: GkeWorld): GkeWorld {
  withPathMatcher(w);
  const negName = `k8s1-${w.ingressUid.slice(0, 8)}-default-cm-acme-http-solver-8089-1f2e3d4c`;
  const negLink = selfLink(w.project, `zones/${w.zone}/networkEndpointGroups/${negName}`);
  w.compute.networkEndpointGroups.push({ kind: "compute#networkEndpointGroup", name: negName, selfLink: negLink, zone: selfLink(w.project, `zones/${w.zone}`), networkEndpointType: "GCE_VM_IP_PORT", defaultPort: 8089, size: 1 });
  w.compute.backendServices.push({
    kind: "compute#backendService",
    name: negName,
    selfLink: selfLink(w.project, `global/backendServices/${negName}`),
    protocol: "HTTP",
    port: 80,
    portName: "port0",
    description: '{"kubernetes.io/service-name":"default/cm-acme-http-solver-x7k2p","kubernetes.io/service-port":"8089"}',
    healthChecks: [],
    backends: [{ group: negLink, balancingMode: "RATE", maxRatePerEndpoint: 1 }],
  });
  w.compute.health[negName] = { [negLink]: [{ ipAddress: "10.4.1.9", port: 8089, healthState: "HEALTHY" }] };
  w.compute.urlMaps[0].pathMatchers![0].pathRules!.unshift({ paths: ["/.well-known/acme-challenge/abc123"], service: selfLink(w.project, `global/backendServices/${negName}`) });
  return w;
}

/**
 * FrontendConfig redirectToHttps: the HTTP proxy links the redirect URL map (k8s2-rm-...), the
 * HTTPS forwarding rule and proxy serve through the Ingress's URL map.
 */
export function withHttpsRedirect(w: GkeWorld): GkeWorld {
  const lb = w.names.urlMap.replace(/^k8s2-um-/, "");
  const rm = `k8s2-rm-${lb}`;
  const httpsFr = `k8s2-fs-${lb}`;
  const httpsTp = `k8s2-ts-${lb}`;
  w.compute.urlMaps.push({ kind: "compute#urlMap", name: rm, selfLink: selfLink(w.project, `global/urlMaps/${rm}`), defaultUrlRedirect: { httpsRedirect: true, redirectResponseCode: "MOVED_PERMANENTLY_DEFAULT", stripQuery: false } });
  w.compute.targetHttpProxies[0].urlMap = selfLink(w.project, `global/urlMaps/${rm}`);
  w.compute.targetHttpsProxies.push({ kind: "compute#targetHttpsProxy", name: httpsTp, selfLink: selfLink(w.project, `global/targetHttpsProxies/${httpsTp}`), urlMap: selfLink(w.project, `global/urlMaps/${w.names.urlMap}`), sslCertificates: [selfLink(w.project, `global/sslCertificates/mcrt-4b1c7e2a`)] });
  w.compute.forwardingRules.push({ ...w.compute.forwardingRules[0], name: httpsFr, selfLink: selfLink(w.project, `global/forwardingRules/${httpsFr}`), portRange: "443-443", target: selfLink(w.project, `global/targetHttpsProxies/${httpsTp}`) });
  Object.assign(w.kube.ingresses[0].metadata!.annotations!, {
    "ingress.kubernetes.io/https-forwarding-rule": httpsFr,
    "ingress.kubernetes.io/https-target-proxy": httpsTp,
    "ingress.kubernetes.io/redirect-url-map": rm,
    "networking.gke.io/v1beta1.FrontendConfig": "https-redirect",
  });
  return w;
}

/** kubernetes.io/ingress.allow-http: "false" leaves forwarding-rule (pointing at the HTTPS proxy) and https-target-proxy, no target-proxy. */
export function withHttpsOnlyAnnotations(w: GkeWorld): GkeWorld {
  const lb = w.names.urlMap.replace(/^k8s2-um-/, "");
  const httpsTp = `k8s2-ts-${lb}`;
  w.compute.targetHttpsProxies.push({ kind: "compute#targetHttpsProxy", name: httpsTp, selfLink: selfLink(w.project, `global/targetHttpsProxies/${httpsTp}`), urlMap: selfLink(w.project, `global/urlMaps/${w.names.urlMap}`) });
  w.compute.targetHttpProxies = [];
  w.compute.forwardingRules[0].target = selfLink(w.project, `global/targetHttpsProxies/${httpsTp}`);
  w.compute.forwardingRules[0].portRange = "443-443";
  const a = w.kube.ingresses[0].metadata!.annotations!;
  delete a["ingress.kubernetes.io/target-proxy"];
  a["ingress.kubernetes.io/https-target-proxy"] = httpsTp;
  a["kubernetes.io/ingress.allow-http"] = "false";
  return w;
}

/**
 * A gce-regional-external (or gce-internal) Ingress: forwarding rule, proxy, URL map, backend
 * services and health checks under regions/<region>/, the forwarding rule regional.
 */
export function withRegionalClass(w: GkeWorld, cls: "gce-internal" | "gce-regional-external", region = "us-central1"): GkeWorld {
  const r = (path: string) => selfLink(w.project, `regions/${region}/${path}`);
  const regionLink = selfLink(w.project, `regions/${region}`);
  const move = <T extends { selfLink?: string | null; region?: string | null }>(items: T[]) => {
    for (const item of items) {
      item.region = regionLink;
      item.selfLink = item.selfLink?.replace("/global/", `/regions/${region}/`);
    }
  };
  move(w.compute.forwardingRules);
  move(w.compute.targetHttpProxies);
  move(w.compute.urlMaps);
  move(w.compute.backendServices);
  move(w.compute.healthChecks);
  const fr = w.compute.forwardingRules[0];
  fr.target = r(`targetHttpProxies/${w.names.targetProxy}`);
  fr.loadBalancingScheme = cls === "gce-internal" ? "INTERNAL_MANAGED" : "EXTERNAL_MANAGED";
  if (cls === "gce-internal") fr.IPAddress = w.loadBalancerIp = "10.128.0.50";
  w.compute.targetHttpProxies[0].urlMap = r(`urlMaps/${w.names.urlMap}`);
  w.compute.urlMaps[0].defaultService = r(`backendServices/${w.names.backendService}`);
  for (const bs of w.compute.backendServices) {
    bs.loadBalancingScheme = fr.loadBalancingScheme;
    bs.healthChecks = (bs.healthChecks ?? []).map((h) => h.replace("/global/", `/regions/${region}/`));
  }
  // the region's proxy-only subnet, and the controller's L7 firewall rule admitting it
  const network = w.compute.instances[0].networkInterfaces![0].network!;
  w.compute.subnetworks = [
    { kind: "compute#subnetwork", name: "proxy-only-us-central1", selfLink: r("subnetworks/proxy-only-us-central1"), region: regionLink, network, ipCidrRange: "10.129.0.0/23", purpose: "REGIONAL_MANAGED_PROXY", role: "ACTIVE" },
    { kind: "compute#subnetwork", name: "ingress-path-nodes", selfLink: r("subnetworks/ingress-path-nodes"), region: regionLink, network, ipCidrRange: "10.128.0.0/20", purpose: "PRIVATE" },
  ];
  w.compute.firewalls.find((f) => f.name === w.names.firewall)!.sourceRanges!.push("10.129.0.0/23");
  w.kube.ingresses[0].metadata!.annotations!["kubernetes.io/ingress.class"] = cls;
  if (cls === "gce-internal") w.kube.ingresses[0].status = { loadBalancer: { ingress: [{ ip: "10.128.0.50" }] } };
  return w;
}

/** Private nodes: no access config, so no external IP (a fact about the cluster). */
export function withPrivateNodes(w: GkeWorld): GkeWorld {
  for (const vm of w.compute.instances) for (const nic of vm.networkInterfaces ?? []) delete nic.accessConfigs;
  for (const node of w.kube.nodes) node.status!.addresses = node.status!.addresses!.filter((a) => a.type !== "ExternalIP");
  return w;
}

/** A pre-2019 cluster's backend service links a legacy compute#httpHealthCheck. */
export function withLegacyHttpHealthCheck(w: GkeWorld): GkeWorld {
  const bs = w.compute.backendServices.find((b) => b.name === w.names.backendService)!;
  const legacy: compute_v1.Schema$HttpHealthCheck = { kind: "compute#httpHealthCheck", name: w.names.backendService, selfLink: selfLink(w.project, `global/httpHealthChecks/${w.names.backendService}`), port: w.nodePort, requestPath: "/", checkIntervalSec: 60, timeoutSec: 60 };
  w.compute.httpHealthChecks = [legacy];
  bs.healthChecks = [legacy.selfLink!];
  return w;
}

