// Composes the components into the article's setup and returns the stack outputs of design.md
// ("contract: stack outputs"). index.ts exports them; the tests call this with chosen configs.
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { Cluster } from "./cluster";
import type { IngressPathConfig } from "./config";
import { Ingress } from "./ingress";
import { cloudLabels, cloudNames, kube, podLabels, sshUser } from "./names";
import { Network } from "./network";
import { Service } from "./service";
import { Workload } from "./workload";

export interface IngressPathOutputs {
  url: pulumi.Output<string>;
  loadBalancerIp: pulumi.Output<string>;
  nodePort: pulumi.Output<number>;
  serviceClusterIp: pulumi.Output<string>;
  servicePort: number;
  podPort: number;
  project: string;
  location: string;
  clusterName: pulumi.Output<string>;
  namespace: string;
  deploymentName: pulumi.Output<string>;
  serviceName: pulumi.Output<string>;
  ingressName: pulumi.Output<string>;
  nodeTag: string;
  sshUser: string;
  kubeconfig: pulumi.Output<string>;
  sshPrivateKey: pulumi.Output<string>;
}

/** The components, for tests that inspect them. */
export interface IngressPathParts {
  gcpProvider: gcp.Provider;
  network: Network;
  cluster: Cluster;
  workload: Workload;
  service: Service;
  ingress: Ingress;
}

export function createIngressPath(config: IngressPathConfig, stack: string): { outputs: IngressPathOutputs; parts: IngressPathParts } {
  const names = cloudNames(stack);
  const labels = cloudLabels(stack);

  // One explicit Google provider, threaded into every Google component, so the project comes from
  // the validated config and not from whatever the environment's gcloud defaults are.
  const gcpProvider = new gcp.Provider("gcp", { project: config.project });
  const onGcp = { providers: [gcpProvider] };

  const network = new Network(
    "network",
    {
      networkName: names.network,
      subnetName: names.subnet,
      firewallName: names.sshFirewall,
      region: config.region,
      nodeTag: names.nodeTag,
      sshSourceRanges: config.sshSourceRanges,
    },
    onGcp,
  );

  const cluster = new Cluster(
    "cluster",
    {
      project: config.project,
      clusterName: names.cluster,
      nodePoolName: names.nodePool,
      nodeServiceAccountId: names.nodeServiceAccountId,
      location: config.location,
      nodesPerZone: config.nodesPerZone,
      machineType: config.machineType,
      spot: config.spot,
      nodeTag: names.nodeTag,
      network: network.vpc.id,
      subnetwork: network.subnet.id,
      podsRangeName: network.podsRangeName,
      servicesRangeName: network.servicesRangeName,
      sshUser,
      labels,
    },
    onGcp,
  );

  const onCluster = { providers: [cluster.kubernetesProvider] };

  const workload = new Workload(
    "workload",
    {
      namespace: kube.namespace,
      deploymentName: kube.deploymentName,
      containerName: kube.containerName,
      portName: kube.portName,
      podLabels: { ...podLabels },
      replicas: config.replicas,
      image: config.image,
      podPort: config.podPort,
    },
    onCluster,
  );

  const service = new Service(
    "service",
    {
      namespace: kube.namespace,
      serviceName: kube.serviceName,
      portName: kube.portName,
      selector: { ...podLabels },
      servicePort: config.servicePort,
      podPort: config.podPort,
      nodePort: config.nodePort,
      backendMode: config.backendMode,
    },
    onCluster,
  );

  const ingress = new Ingress(
    "ingress",
    {
      namespace: kube.namespace,
      ingressName: kube.ingressName,
      ingressClass: kube.ingressClass,
      serviceName: service.service.metadata.name,
      servicePort: config.servicePort,
      after: [workload.deployment],
    },
    onCluster,
  );

  return {
    parts: { gcpProvider, network, cluster, workload, service, ingress },
    outputs: {
      // The load balancer listens on 80 whatever s-port is (s-port only names the Service port).
      url: pulumi.interpolate`http://${ingress.loadBalancerIp}/`,
      loadBalancerIp: ingress.loadBalancerIp,
      nodePort: service.nodePort,
      serviceClusterIp: service.clusterIp,
      servicePort: config.servicePort,
      podPort: config.podPort,
      project: config.project,
      location: config.location,
      clusterName: cluster.cluster.name,
      namespace: kube.namespace,
      deploymentName: workload.deployment.metadata.name,
      serviceName: service.service.metadata.name,
      ingressName: ingress.ingress.metadata.name,
      nodeTag: names.nodeTag,
      sshUser,
      kubeconfig: cluster.kubeconfig,
      sshPrivateKey: cluster.sshPrivateKey,
    },
  };
}
