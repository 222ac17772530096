// Every name, label and fixed port of the stack lives here, so the program, its tests and the
// docs agree on one spelling. Cloud names derive from the stack name: two stacks in one project
// do not collide, and the same stack always gets the same names (a second `pulumi up` plans nothing).

/** The Pulumi project name; also the config namespace. */
export const projectName = "gke-ingress-path";

/** Short prefix that marks every cloud resource this program creates (and `npm run sweep` looks for). */
export const cloudPrefix = "gip";

/** Fixed Kubernetes names. The namespace is `default`: nothing to create, nothing to wait for at destroy. */
export const kube = {
  namespace: "default",
  deploymentName: "hello",
  serviceName: "hello",
  ingressName: "hello",
  containerName: "hello",
  /** Port name on the container and the Service port (named ports read better in iptables comments). */
  portName: "http",
  /** The GKE Ingress controller's class; GKE reads it from the annotation, not from spec.ingressClassName. */
  ingressClass: "gce",
} as const;

/** Labels on the pods; the Service selector and the anti-affinity term use exactly these. */
export const podLabels: Readonly<Record<string, string>> = { app: "hello", "app.kubernetes.io/part-of": projectName };

/** The user the verifier logs in as on the nodes (its key goes into node metadata `ssh-keys`). */
export const sshUser = "pathcheck";

/** GFE and health-check source ranges of Google's external Application Load Balancer (documentation only: GKE opens them). */
export const googleHealthCheckRanges = ["130.211.0.0/22", "35.191.0.0/16"] as const;

/** Secondary range names inside the node subnet (VPC-native cluster). */
export const secondaryRangeNames = { pods: "pods", services: "services" } as const;

/**
 * Turns a stack name into a fragment valid in every GCP name we build: lowercase letters, digits,
 * hyphens, starting with a letter, at most 20 characters (the service account id allows 30 in all).
 */
export function stackFragment(stack: string): string {
  const cleaned = stack
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^[^a-z]+/, "")
    .slice(0, 20)
    .replace(/-+$/, "");
  return cleaned.length > 0 ? cleaned : "stack";
}

/** The GCP names of one stack's resources. */
export interface CloudNames {
  network: string;
  subnet: string;
  sshFirewall: string;
  cluster: string;
  nodePool: string;
  /** Service account id (the part before @): 6..30 characters. */
  nodeServiceAccountId: string;
  /** Network tag on the node VMs; the SSH firewall targets it. */
  nodeTag: string;
}

export function cloudNames(stack: string): CloudNames {
  const base = `${cloudPrefix}-${stackFragment(stack)}`;
  return {
    network: `${base}-net`,
    subnet: `${base}-nodes`,
    sshFirewall: `${base}-allow-ssh`,
    cluster: base,
    nodePool: `${base}-pool`,
    nodeServiceAccountId: `${base}-nodes`,
    nodeTag: `${base}-node`,
  };
}

/** Labels on every GCP resource that takes labels (lets `npm run sweep` and billing find them). */
export function cloudLabels(stack: string): Record<string, string> {
  return { "managed-by": "pulumi", project: projectName, stack: stackFragment(stack) };
}
