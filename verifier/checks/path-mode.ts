// Today's GKE defaults that take nodes' iptables off the LB path. They are explained to the reader
// instead of being reported as a broken cluster: the article's path simply is not the one in use.
import type { Evidence, PathModel } from "../model";

export interface ModeFinding {
  detected: boolean;
  /** one paragraph for the reader */
  explanation: string;
  evidence: Evidence[];
}

export interface PathMode {
  dataplaneV2: ModeFinding;
  neg: ModeFinding;
}

const DPV2_EXPLANATION =
  "Dataplane V2 (eBPF, Cilium) does service load-balancing in the kernel without kube-proxy's iptables rules, " +
  "so there are no KUBE-* chains to show. Create the cluster with datapathProvider LEGACY_DATAPATH to see the article's rules.";
const NEG_EXPLANATION =
  "Container-native load balancing (NEG): the LB sends to pod IPs directly; nodes' iptables are not on the path; " +
  "set backendMode instance-group (the Service annotation cloud.google.com/neg: '{\"ingress\": false}') to get the article's path.";

/** Minimal node facts the detection needs (the checks' NodeView satisfies it). */
interface DumpView {
  name: string;
  node?: { nat?: { text: string } };
}

function negAnnotation(value: string | undefined): boolean {
  if (!value) return false;
  try {
    const parsed = JSON.parse(value) as { ingress?: unknown };
    return parsed.ingress === true;
  } catch {
    return false;
  }
}

export function detectPathMode(model: PathModel, nodes: DumpView[]): PathMode {
  const dpv2Evidence: Evidence[] = [];
  if (model.kubernetes?.datapath === "dataplane-v2") {
    dpv2Evidence.push({ source: "kubernetes kube-system", detail: "anetd / cilium runs and kube-proxy does not (datapath dataplane-v2)" });
  }
  const dumps = nodes.filter((n) => n.node?.nat);
  const noKubeChains = dumps.length > 0 && dumps.every((n) => !n.node!.nat!.text.includes("KUBE-"));
  const ciliumChains = dumps.some((n) => /CILIUM_/.test(n.node!.nat!.text));
  if (noKubeChains && (ciliumChains || model.kubernetes?.datapath === "dataplane-v2")) {
    dpv2Evidence.push({
      source: "nodes' nat tables",
      detail: `no KUBE-* chains on ${dumps.map((n) => n.name).join(", ")}${ciliumChains ? "; CILIUM_* chains present" : ""}`,
    });
  }

  const negEvidence: Evidence[] = [];
  for (const bs of model.loadBalancer?.backendServices ?? []) {
    for (const b of bs.backends.filter((x) => x.kind === "networkEndpointGroup")) {
      negEvidence.push({ source: `compute backendServices/${bs.name}`, detail: `backends[].group=${b.group} (network endpoint group)` });
    }
  }
  const service = model.kubernetes?.service;
  const negValue = service?.annotations["cloud.google.com/neg"];
  if (negAnnotation(negValue)) {
    negEvidence.push({ source: `kubernetes service ${service!.namespace}/${service!.name}`, detail: `metadata.annotations["cloud.google.com/neg"]=${negValue}` });
  }

  return {
    dataplaneV2: { detected: dpv2Evidence.length > 0, explanation: DPV2_EXPLANATION, evidence: dpv2Evidence },
    neg: { detected: negEvidence.length > 0, explanation: NEG_EXPLANATION, evidence: negEvidence },
  };
}
