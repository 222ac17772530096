// Ingress: asks GKE's Ingress controller for an external Application Load Balancer whose default
// backend is the Service on s-port (the controller maps it to n-port on the node instance groups).
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

/**
 * GKE picks Ingresses by this annotation. Per GKE's docs ("GKE Ingress controller behavior"), with
 * the annotation unset and spec.ingressClassName set, GKE takes no action; with the annotation "gce"
 * it ignores ingressClassName. So: the annotation, and no ingressClassName.
 */
export const ingressClassAnnotationKey = "kubernetes.io/ingress.class";

export interface IngressArgs {
  namespace: string;
  ingressName: string;
  ingressClass: string;
  serviceName: pulumi.Input<string>;
  servicePort: number;
  /**
   * Resources that must be ready before the Ingress is created (the Deployment: the LB health check
   * needs ready pods). Also orders destroy: the Ingress goes first.
   */
  after?: pulumi.Resource[];
}

export class Ingress extends pulumi.ComponentResource {
  readonly ingress: k8s.networking.v1.Ingress;
  /** Public IP of the load balancer's forwarding rule. */
  readonly loadBalancerIp: pulumi.Output<string>;

  constructor(name: string, args: IngressArgs, opts?: pulumi.ComponentResourceOptions) {
    super("gke-ingress-path:ingress:Ingress", name, {}, opts);

    // No pulumi.com/skipAwait: Pulumi waits for the load balancer's IP on create, and on delete it
    // waits until the controller has removed the LB and lifted its finalizer.
    this.ingress = new k8s.networking.v1.Ingress(
      name,
      {
        metadata: {
          name: args.ingressName,
          namespace: args.namespace,
          annotations: { [ingressClassAnnotationKey]: args.ingressClass },
        },
        spec: {
          defaultBackend: { service: { name: args.serviceName, port: { number: args.servicePort } } },
        },
      },
      // The controller needs a few minutes to build the forwarding rule, proxy, URL map and backends.
      { parent: this, dependsOn: args.after ?? [], customTimeouts: { create: "20m", delete: "20m" } },
    );

    this.loadBalancerIp = this.ingress.status.loadBalancer.ingress.apply((entries) => entries?.[0]?.ip ?? "");
    this.registerOutputs({ loadBalancerIp: this.loadBalancerIp });
  }
}
