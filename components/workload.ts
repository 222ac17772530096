// Workload: the article's pods. `replicas` copies of `image` answering HTTP on `podPort`, each on
// its own node, so some node carries no pod and still forwards (the article's VM-2).
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

export interface WorkloadArgs {
  namespace: string;
  deploymentName: string;
  containerName: string;
  portName: string;
  podLabels: Record<string, string>;
  replicas: number;
  image: string;
  podPort: number;
}

export class Workload extends pulumi.ComponentResource {
  readonly deployment: k8s.apps.v1.Deployment;

  constructor(name: string, args: WorkloadArgs, opts?: pulumi.ComponentResourceOptions) {
    super("gke-ingress-path:workload:Workload", name, {}, opts);

    this.deployment = new k8s.apps.v1.Deployment(
      name,
      {
        metadata: { name: args.deploymentName, namespace: args.namespace, labels: args.podLabels },
        spec: {
          replicas: args.replicas,
          selector: { matchLabels: args.podLabels },
          // With one pod per node, a surge pod may have no free node (replicas == nodeCount):
          // replace pods one at a time instead of surging.
          strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } },
          template: {
            metadata: { labels: args.podLabels },
            spec: {
              // Required anti-affinity, not topologySpreadConstraints: a spread with maxSkew 1 still
              // allows two pods on one node once replicas > nodes, and the article's picture (and
              // check C8) needs "at most one pod per node", which only this rule states.
              affinity: {
                podAntiAffinity: {
                  requiredDuringSchedulingIgnoredDuringExecution: [
                    { topologyKey: "kubernetes.io/hostname", labelSelector: { matchLabels: args.podLabels } },
                  ],
                },
              },
              containers: [
                {
                  name: args.containerName,
                  image: args.image,
                  // hello-app listens on $PORT (8080 when unset).
                  env: [{ name: "PORT", value: String(args.podPort) }],
                  ports: [{ name: args.portName, containerPort: args.podPort, protocol: "TCP" }],
                  // GKE's Ingress controller turns this probe into the load balancer's health check.
                  readinessProbe: {
                    httpGet: { path: "/", port: args.podPort },
                    periodSeconds: 5,
                    timeoutSeconds: 2,
                    failureThreshold: 3,
                  },
                  resources: {
                    requests: { cpu: "50m", memory: "32Mi" },
                    limits: { memory: "64Mi" },
                  },
                },
              ],
            },
          },
        },
      },
      { parent: this },
    );

    this.registerOutputs({ deploymentName: this.deployment.metadata.name });
  }
}
