// Service: the article's NodePort Service. s-port on the cluster IP, n-port on every node, both
// forwarded by kube-proxy's nat rules to p-port on the pods.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { BackendMode } from "./config";

/** GKE's container-native load balancing switch. `false` keeps the LB on instance groups (nodes). */
export const negAnnotationKey = "cloud.google.com/neg";

export function negAnnotation(mode: BackendMode): string {
  return JSON.stringify({ ingress: mode === "neg" });
}

export interface ServiceArgs {
  namespace: string;
  serviceName: string;
  portName: string;
  /** Must equal the pods' labels. */
  selector: Record<string, string>;
  servicePort: number;
  podPort: number;
  /** undefined: Kubernetes picks one. */
  nodePort: number | undefined;
  backendMode: BackendMode;
}

export class Service extends pulumi.ComponentResource {
  readonly service: k8s.core.v1.Service;
  readonly clusterIp: pulumi.Output<string>;
  readonly nodePort: pulumi.Output<number>;

  constructor(name: string, args: ServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("gke-ingress-path:service:Service", name, {}, opts);

    this.service = new k8s.core.v1.Service(
      name,
      {
        metadata: {
          name: args.serviceName,
          namespace: args.namespace,
          annotations: { [negAnnotationKey]: negAnnotation(args.backendMode) },
        },
        spec: {
          type: "NodePort",
          selector: args.selector,
          // Cluster: every node forwards to any pod, also nodes without one (the article's VM-2).
          externalTrafficPolicy: "Cluster",
          ports: [
            {
              name: args.portName,
              protocol: "TCP",
              port: args.servicePort,
              targetPort: args.podPort,
              ...(args.nodePort === undefined ? {} : { nodePort: args.nodePort }),
            },
          ],
        },
      },
      { parent: this },
    );

    this.clusterIp = this.service.spec.clusterIP;
    this.nodePort = this.service.spec.ports.apply((ports) => ports[0]!.nodePort);
    this.registerOutputs({ clusterIp: this.clusterIp, nodePort: this.nodePort });
  }
}
