// C1 and C8: where the nodes and pods are.
import type { CheckResult, Evidence } from "../model";
import { problemText, type CheckContext } from "./context";
import { checkNegC1 } from "./neg-path";
import { list, result } from "./verdict";

export const CLAIMS = {
  C1: "The nodes are VMs in an instance group, each with an internal and an external IP",
  C8: "The pods run on distinct nodes and at least one node runs none",
};

export function checkC1(ctx: CheckContext): CheckResult {
  // the container-native path: C1 reads as docs/neg.md says (checks/neg-path.ts)
  if (ctx.mode.neg.detected) return checkNegC1(ctx);
  const lb = ctx.model.loadBalancer;
  const groups = lb?.instanceGroups ?? [];
  if (!lb || groups.length === 0) {
    return result("C1", CLAIMS.C1, "cannot-tell", `The instance groups were not read: ${list(problemText(ctx.model, ["gcp", "lab", "kubernetes"]))}`, []);
  }
  const evidence: Evidence[] = groups.map((g) => ({
    source: `compute instanceGroups/${g.name} (${g.zone})`,
    detail: `instances: ${list(g.instances)}`,
    resource: `${g.zone}/${g.name}`,
  }));
  const failures: string[] = [];
  const facts: string[] = [];
  // Kubernetes' node list is the authority; without it, judge the instances the groups hold.
  const nodeNames = ctx.model.kubernetes?.nodes.length ? ctx.model.kubernetes.nodes.map((n) => n.name) : groups.flatMap((g) => g.instances);
  const groupNames = [...new Set(groups.map((g) => `${g.name} (${g.zone})`))];
  const privateNodes: string[] = [];
  for (const name of nodeNames) {
    const group = groups.find((g) => g.instances.includes(name));
    const vm = lb.instances.find((i) => i.name === name);
    if (!group) {
      // only the groups' members are read from Compute: a node outside them has no VM record here,
      // and "no VM found" would be wrong; it is a node the LB never sends to
      const zone = /^gce:\/\/[^/]+\/([^/]+)\//.exec(ctx.model.kubernetes?.nodes.find((n) => n.name === name)?.providerId ?? "")?.[1];
      failures.push(`node ${name}${zone ? ` (${zone})` : ""} is in none of the instance groups ${list(groupNames)}, so the load balancer never sends to it`);
      continue;
    }
    if (!vm) {
      failures.push(`${name} is a member of ${group.name} (${group.zone}) but its VM instance could not be read (${list(problemText(ctx.model, ["gcp"], `${group.zone}/${name}`))})`);
      continue;
    }
    evidence.push({
      source: `compute instances/${vm.name} (${vm.zone})`,
      detail: `networkInterfaces[0].networkIP=${vm.internalIp ?? "(none)"}, accessConfigs[0].natIP=${vm.externalIp ?? "(none)"}`,
      node: vm.name,
    });
    if (!vm.internalIp) failures.push(`${name} has no internal IP`);
    if (!vm.externalIp) privateNodes.push(name);
  }
  // Private nodes: the load balancer reaches nodes on n-ip; an external IP is the article's study
  // setup (direct SSH), not part of the path. Said as a fact about this cluster.
  if (privateNodes.length > 0) facts.push(`${privateNodes.length === nodeNames.length ? "all nodes are private" : `${privateNodes.join(", ")} ${privateNodes.length === 1 ? "is" : "are"} private`} (no external IP; the load balancer reaches nodes on their internal IP, so this is not a fault on the path)`);
  if (failures.length > 0) return result("C1", CLAIMS.C1, "fail", [...failures, ...facts].join("; "), evidence);
  return result(
    "C1",
    CLAIMS.C1,
    "pass",
    `${nodeNames.length} nodes are VMs in ${groupNames.join(", ")}, each with an internal IP${privateNodes.length === 0 ? " and an external IP" : ""}.${facts.length ? ` Fact: ${facts.join("; ")}.` : ""}`,
    evidence,
  );
}

export function checkC8(ctx: CheckContext): CheckResult {
  const kube = ctx.model.kubernetes;
  if (!kube || kube.nodes.length === 0) {
    return result("C8", CLAIMS.C8, "cannot-tell", `Kubernetes' nodes and pods were not read: ${list(problemText(ctx.model, ["kubernetes", "lab"]))}`, []);
  }
  const pods = ctx.pods;
  if (pods.length === 0) return result("C8", CLAIMS.C8, "cannot-tell", "Kubernetes lists no pod of the Service.", []);
  const evidence: Evidence[] = pods.map((p) => ({ source: `kubernetes pod ${p.name}`, ...(p.nodeName ? { node: p.nodeName } : {}), detail: `spec.nodeName=${p.nodeName ?? "(unscheduled)"}, status.podIP=${p.ip ?? "(none)"}, ready=${p.ready}` }));
  const unscheduled = pods.filter((p) => !p.nodeName);
  if (unscheduled.length > 0) {
    return result("C8", CLAIMS.C8, "cannot-tell", `Not scheduled yet: ${unscheduled.map((p) => p.name).join(", ")}`, evidence);
  }
  const podless = kube.nodes.filter((n) => !pods.some((p) => p.nodeName === n.name));
  podless.forEach((n) => evidence.push({ source: `kubernetes node ${n.name}`, node: n.name, detail: "runs no pod of the Service" }));
  const failures: string[] = [];
  const byNode = new Map<string, string[]>();
  pods.forEach((p) => byNode.set(p.nodeName!, [...(byNode.get(p.nodeName!) ?? []), p.name]));
  for (const [node, names] of byNode) if (names.length > 1) failures.push(`${names.join(" and ")} share node ${node}`);
  if (podless.length === 0) failures.push(`every one of the ${kube.nodes.length} nodes runs a pod`);
  if (failures.length > 0 && ctx.model.target.origin) {
    // Where pods run is the article's study setup (a node without a pod still forwards); on a
    // user's Ingress it is reported as what it is, not as a broken path.
    evidence.push({ source: "this cluster", detail: `${failures.join("; ")}: the article's picture (one node without a pod) is not this cluster's; the path does not need it` });
    return result("C8", CLAIMS.C8, "pass", `A fact about this cluster, not a path failure: ${failures.join("; ")}.`, evidence);
  }
  if (failures.length > 0) return result("C8", CLAIMS.C8, "fail", failures.join("; "), evidence);
  return result("C8", CLAIMS.C8, "pass", `${pods.length} pods on ${byNode.size} distinct nodes; ${podless.map((n) => n.name).join(", ")} ${podless.length === 1 ? "runs" : "run"} none.`, evidence);
}
