// Network: an own VPC (so nothing else in the project shares the nodes' firewall rules), one subnet
// in the cluster's region with secondary ranges for pods and Services (a VPC-native cluster), and
// the one firewall rule we add ourselves: SSH to the nodes, from the configured ranges only. The
// health-check rule for the load balancer is created by the GKE Ingress controller itself.
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { cidrProblem } from "./config";
import { secondaryRangeNames } from "./names";

/** The address plan: private ranges that do not overlap each other or the usual 10.0.0.0/16 defaults. */
export const addressPlan = {
  nodes: "10.10.0.0/20",
  pods: "10.32.0.0/14",
  services: "10.96.0.0/20",
} as const;

export interface NetworkArgs {
  networkName: string;
  subnetName: string;
  firewallName: string;
  region: string;
  nodeTag: string;
  /** Sources allowed to reach the nodes on tcp:22. Must not contain a /0 range. */
  sshSourceRanges: string[];
}

export class Network extends pulumi.ComponentResource {
  readonly vpc: gcp.compute.Network;
  readonly subnet: gcp.compute.Subnetwork;
  readonly sshFirewall: gcp.compute.Firewall;
  readonly podsRangeName: string = secondaryRangeNames.pods;
  readonly servicesRangeName: string = secondaryRangeNames.services;

  constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("gke-ingress-path:network:Network", name, {}, opts);
    // Second line of defence behind config.ts: this component never opens SSH to everyone.
    for (const range of args.sshSourceRanges) {
      const problem = cidrProblem(range);
      if (problem !== undefined) {
        throw new Error(`Network ${name}: sshSourceRanges entry ${range} ${problem}`);
      }
    }
    const child = { parent: this };

    this.vpc = new gcp.compute.Network(
      `${name}-vpc`,
      { name: args.networkName, autoCreateSubnetworks: false, description: "gke-ingress-path: the article's cluster network" },
      child,
    );

    this.subnet = new gcp.compute.Subnetwork(
      `${name}-subnet`,
      {
        name: args.subnetName,
        network: this.vpc.id,
        region: args.region,
        ipCidrRange: addressPlan.nodes,
        secondaryIpRanges: [
          { rangeName: secondaryRangeNames.pods, ipCidrRange: addressPlan.pods },
          { rangeName: secondaryRangeNames.services, ipCidrRange: addressPlan.services },
        ],
      },
      child,
    );

    this.sshFirewall = new gcp.compute.Firewall(
      `${name}-ssh`,
      {
        name: args.firewallName,
        network: this.vpc.id,
        direction: "INGRESS",
        description: "SSH to the GKE nodes for the path verifier",
        allows: [{ protocol: "tcp", ports: ["22"] }],
        sourceRanges: args.sshSourceRanges,
        targetTags: [args.nodeTag],
      },
      child,
    );

    this.registerOutputs({ networkId: this.vpc.id, subnetId: this.subnet.id, sshFirewallName: this.sshFirewall.name });
  }
}
