// What the VPC firewall does with the health checkers' packets to a node's n-port, decided the way
// Google Cloud decides it (VPC firewall rules overview, https://cloud.google.com/firewall/docs/firewalls):
// - only the rules of the instance's own VPC network apply;
// - an INGRESS rule applies when it is enabled, its source ranges contain the packet's source, its
//   target is every instance, a network tag the instance carries (targetTags) or the instance's
//   service account (targetServiceAccounts), and its protocol/ports match;
// - the applicable rule with the lowest priority number wins; at equal priority a deny rule wins
//   over an allow rule;
// - when none applies, the implied "deny all ingress" rule (priority 65535) drops the packet.
// Sources given only as source tags / source service accounts match VMs, never the Google ranges.
// Pure: rules and instances in, decisions out.
import type { FirewallRuleModel, InstanceModel } from "../model";
import { cidrCovers } from "../address";

/** The health checkers' and Google front ends' source ranges (GCP health check docs). */
export const HEALTH_CHECK_RANGES = ["130.211.0.0/22", "35.191.0.0/16"] as const;

export type FirewallAction = "allow" | "deny";

export interface FirewallDecision {
  instance: string;
  range: string;
  port: number;
  action: FirewallAction;
  /** the rule that decided; undefined = the implied deny-all ingress rule */
  rule?: FirewallRuleModel;
  /** rules that would allow but do not count, each with why (disabled, another network, lost to a deny, ...) */
  notCounted: { rule: FirewallRuleModel; why: string }[];
}

function portIn(spec: string, port: number): boolean {
  const [lo, hi] = spec.split("-").map(Number);
  return port >= lo && port <= (Number.isNaN(hi) || hi === undefined ? lo : hi);
}

/** Does a list of {protocol, ports} match tcp:port? ("all" and an empty ports list match every port). */
export function matchesTcp(entries: { protocol: string; ports: string[] }[] | undefined, port: number): boolean {
  return (entries ?? []).some((a) => (a.protocol === "tcp" || a.protocol === "all" || a.protocol === "6") && (a.ports.length === 0 || a.ports.some((p) => portIn(p, port))));
}

/** Does the rule target this instance (every instance, one of its tags, or its service account)? */
export function targets(rule: FirewallRuleModel, vm: InstanceModel): boolean {
  if (rule.targetServiceAccounts && rule.targetServiceAccounts.length > 0) return (vm.serviceAccounts ?? []).some((s) => rule.targetServiceAccounts!.includes(s));
  if (rule.targetTags.length > 0) return vm.networkTags.some((t) => rule.targetTags.includes(t));
  return true;
}

/** Do the rule's source ranges contain the whole range? (partly: some of it) */
function sourceCovers(rule: FirewallRuleModel, range: string): "all" | "part" | "none" {
  if (rule.sourceRanges.some((s) => cidrCovers(s, range))) return "all";
  if (rule.sourceRanges.some((s) => cidrCovers(range, s))) return "part";
  return "none";
}

const isDeny = (rule: FirewallRuleModel, port: number) => matchesTcp(rule.denied, port);
const isAllow = (rule: FirewallRuleModel, port: number) => matchesTcp(rule.allowed, port);

/**
 * The VPC's decision for tcp traffic from `range` to `vm` on `port`. `rules` may hold rules of any
 * network (the instance's network decides which count); `network` is the cluster's network when the
 * instance's own is unknown.
 */
export function decide(rules: FirewallRuleModel[], vm: InstanceModel, range: string, port: number, network?: string): FirewallDecision {
  const vmNetwork = vm.network ?? network;
  const notCounted: FirewallDecision["notCounted"] = [];
  const applicable: FirewallRuleModel[] = [];
  for (const rule of rules) {
    if (rule.direction !== "INGRESS") continue;
    const relevant = (isAllow(rule, port) || isDeny(rule, port)) && sourceCovers(rule, range) !== "none" && targets(rule, vm);
    if (!relevant) continue;
    if (vmNetwork && rule.network && rule.network !== vmNetwork) {
      if (isAllow(rule, port)) notCounted.push({ rule, why: `it is in network ${rule.network}, the node is in ${vmNetwork}` });
      continue;
    }
    if (rule.disabled) {
      if (isAllow(rule, port)) notCounted.push({ rule, why: "it is disabled" });
      continue;
    }
    // a rule covering only part of the range decides only for that part: counted as not deciding
    if (sourceCovers(rule, range) === "part") {
      if (isAllow(rule, port)) notCounted.push({ rule, why: `its source ranges ${rule.sourceRanges.join(",")} cover only part of ${range}` });
      continue;
    }
    applicable.push(rule);
  }
  const rank = (r: FirewallRuleModel) => (r.priority ?? 1000) * 2 + (isDeny(r, port) ? 0 : 1);
  applicable.sort((a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name));
  const winner = applicable[0];
  if (!winner) return { instance: vm.name, range, port, action: "deny", notCounted };
  const action: FirewallAction = isDeny(winner, port) ? "deny" : "allow";
  if (action === "deny") {
    for (const r of applicable.slice(1)) if (isAllow(r, port)) notCounted.push({ rule: r, why: `deny rule ${winner.name} (priority ${winner.priority ?? 1000}) wins over it (priority ${r.priority ?? 1000})` });
  }
  return { instance: vm.name, range, port, action, rule: winner, notCounted };
}

/** One line for evidence: "130.211.0.0/22 -> node-1 tcp:30080 allow by k8s-fw-l7--uid (priority 1000)". */
export function decisionText(d: FirewallDecision): string {
  const by = d.rule ? `${d.rule.name} (priority ${d.rule.priority ?? 1000}${d.rule.network ? `, network ${d.rule.network}` : ""})` : "the implied deny-all ingress rule (priority 65535)";
  const ignored = d.notCounted.length > 0 ? `; not counted: ${d.notCounted.map((n) => `${n.rule.name} (${n.why})`).join(", ")}` : "";
  return `${d.range} -> ${d.instance} tcp:${d.port}: ${d.action} by ${by}${ignored}`;
}

/** Rule fields as evidence. */
export function ruleText(r: FirewallRuleModel): string {
  const list = (e?: { protocol: string; ports: string[] }[]) => (e ?? []).map((a) => `${a.protocol}:${a.ports.join(",") || "all"}`).join(" ");
  return [
    `network=${r.network ?? "(unknown)"}`,
    `direction=${r.direction}`,
    `priority=${r.priority ?? 1000}`,
    `sourceRanges=${r.sourceRanges.join(",") || "(none)"}`,
    `targetTags=${r.targetTags.join(",") || "(all)"}`,
    ...(r.targetServiceAccounts?.length ? [`targetServiceAccounts=${r.targetServiceAccounts.join(",")}`] : []),
    ...(r.allowed.length ? [`allowed=${list(r.allowed)}`] : []),
    ...(r.denied?.length ? [`denied=${list(r.denied)}`] : []),
    `disabled=${r.disabled}`,
  ].join(", ");
}
