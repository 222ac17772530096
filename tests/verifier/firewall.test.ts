// The VPC firewall evaluator: the rules GCP documents (network, direction, priority, deny over allow
// at equal priority, disabled, target tags and service accounts, implied deny), one at a time.
import type { FirewallRuleModel, InstanceModel } from "../../verifier/model";
import { decide } from "../../verifier/checks/firewall";

const vm: InstanceModel = { name: "node-1", zone: "us-central1-a", internalIp: "10.128.0.2", networkTags: ["gke-node"], network: "vpc-a", serviceAccounts: ["nodes@p.iam.gserviceaccount.com"] };
const allow = (over: Partial<FirewallRuleModel> = {}): FirewallRuleModel => ({
  name: "allow-gfe",
  network: "vpc-a",
  direction: "INGRESS",
  priority: 1000,
  sourceRanges: ["130.211.0.0/22", "35.191.0.0/16"],
  targetTags: ["gke-node"],
  allowed: [{ protocol: "tcp", ports: ["30000-32767"] }],
  disabled: false,
  ...over,
});
const deny = (over: Partial<FirewallRuleModel> = {}): FirewallRuleModel => ({ ...allow(), name: "deny-all", sourceRanges: ["0.0.0.0/0"], targetTags: [], allowed: [], denied: [{ protocol: "all", ports: [] }], ...over });
const action = (rules: FirewallRuleModel[], range = "130.211.0.0/22", port = 30080) => {
  const d = decide(rules, vm, range, port);
  return `${d.action}:${d.rule?.name ?? "implied"}`;
};

test("an enabled allow rule of the VM's network, tag and port lets the range in", () => {
  expect(action([allow()])).toBe("allow:allow-gfe");
  expect(action([allow()], "35.191.0.0/16")).toBe("allow:allow-gfe");
});

test("nothing applies: the implied deny-all ingress rule", () => {
  expect(action([])).toBe("deny:implied");
  expect(action([allow({ allowed: [{ protocol: "tcp", ports: ["80"] }] })])).toBe("deny:implied");
  expect(action([allow({ allowed: [{ protocol: "udp", ports: [] }] })])).toBe("deny:implied");
  expect(action([allow({ direction: "EGRESS" })])).toBe("deny:implied");
  expect(action([allow({ targetTags: ["other-tag"] })])).toBe("deny:implied");
});

test("a rule of another network or a disabled rule does not count, and says why", () => {
  const d = decide([allow({ network: "vpc-b" }), allow({ name: "off", disabled: true })], vm, "130.211.0.0/22", 30080);
  expect(d.action).toBe("deny");
  expect(d.notCounted.map((n) => `${n.rule.name}: ${n.why}`)).toEqual(["allow-gfe: it is in network vpc-b, the node is in vpc-a", "off: it is disabled"]);
});

test("priority: the lower number wins; at equal priority deny wins over allow", () => {
  expect(action([allow(), deny({ priority: 999 })])).toBe("deny:deny-all");
  expect(action([allow(), deny({ priority: 1000 })])).toBe("deny:deny-all");
  expect(action([allow(), deny({ priority: 1001 })])).toBe("allow:allow-gfe");
  expect(action([allow({ priority: 100 }), deny({ priority: 500 })])).toBe("allow:allow-gfe");
});

test("a deny for another port or protocol does not touch the health checks", () => {
  expect(action([allow(), deny({ priority: 10, denied: [{ protocol: "tcp", ports: ["22"] }] })])).toBe("allow:allow-gfe");
  expect(action([allow(), deny({ priority: 10, denied: [{ protocol: "udp", ports: [] }] })])).toBe("allow:allow-gfe");
});

test("target service accounts: the VM's service account, not its tags, decides", () => {
  expect(action([allow({ targetTags: [], targetServiceAccounts: ["nodes@p.iam.gserviceaccount.com"] })])).toBe("allow:allow-gfe");
  expect(action([allow({ targetTags: [], targetServiceAccounts: ["other@p.iam.gserviceaccount.com"] })])).toBe("deny:implied");
  // no targets at all: every instance of the network
  expect(action([allow({ targetTags: [] })])).toBe("allow:allow-gfe");
});

test("a source range covering only part of the health-check range does not admit it all", () => {
  const d = decide([allow({ sourceRanges: ["35.191.0.0/17"] })], vm, "35.191.0.0/16", 30080);
  expect(d.action).toBe("deny");
  expect(d.notCounted[0].why).toContain("cover only part of 35.191.0.0/16");
  // source tags alone never match the Google ranges
  expect(action([allow({ sourceRanges: [], sourceTags: ["gke-node"] })])).toBe("deny:implied");
});
