// Causes read on the nodes: reachability, kube-proxy's nat rules, forwarding (filter table,
// ip_forward), and what the node's probes to n-ip:n-port and each p-ip:p-port saw. Pure.
import type { CheckResult, Diagnosis } from "../model";
import type { CheckContext } from "./context";

/** Causes on the node, node-nat, node-forwarding and pod hops; [] when none is found. */
export function nodeCauses(_ctx: CheckContext, _results: CheckResult[]): Diagnosis[] {
  return [];
}
