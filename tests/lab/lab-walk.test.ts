// The walk on the real lab: a sample of kube-proxy's rules deleted by hand on a node
// (`iptables -t nat -D ...`), one at a time, the lab verified, then repaired. Each deletion either
// leaves every claim holding or is named at that node with that rule (as another node has it). The
// full sweep of every rule runs in memory (tests/verifier/path-walk.test.ts); this sample holds a
// link whose loss only the health checks see (the masquerade mark), links the shape finders never
// named (PREROUTING's jump, KUBE-EXT -> KUBE-SVC) and one that changes nothing here (KUBE-FORWARD's
// ACCEPT of marked packets, while FORWARD's policy is ACCEPT).
// Own prefix and address block (giplw-, 10.223).
import { execInNamespace } from "../../lab/netns";
import { splitRule } from "../../lab/faults";
import { clearRecentChecks, waitForLb } from "../../lab/lb-control";
import { labPaths } from "../../lab/state";
import { labTopology, nodeByName } from "../../lab/topology";
import { TEST_HEALTH_CHECK_MS, useLab } from "../support/lab-lifecycle";
import { labVerify } from "../../lab/verify";
import { describeWithNamespaces } from "../support/namespaces";

jest.setTimeout(300_000);

describeWithNamespaces("rules deleted by hand on a lab node, each named at its node by the walk (giplw-, 10.223.0.0/16)", () => {
  const t = labTopology({ prefix: "giplw-", net: "10.223", healthCheckIntervalMs: TEST_HEALTH_CHECK_MS });

  useLab(t);

  // a sample: the full sweep is in memory; each case here costs a verify with requests (~10 s)
  const sample: [string, string, RegExp][] = [
    ["node-2", "nat", /^-A PREROUTING .*-j KUBE-SERVICES$/],
    ["node-2", "nat", /^-A KUBE-EXT-\S+ -j KUBE-SVC-/],
    ["node-1", "nat", /^-A KUBE-MARK-MASQ -j MARK/],
    ["node-1", "filter", /^-A KUBE-FORWARD .*--mark 0x4000\/0x4000 -j ACCEPT$/],
  ];

  test.each(sample)("%s: %s rule %s deleted: every claim holds, or it is named at that node with that rule", async (node, table, pattern) => {
    const n = nodeByName(t, node);
    const save = (await execInNamespace(n.namespace, ["iptables-save", "-t", table])).stdout;
    const rule = save.split("\n").find((l) => pattern.test(l));
    expect(rule).toBeDefined();
    await execInNamespace(n.namespace, ["iptables", "-t", table, "-D", ...splitRule(rule!.slice(3))]);
    // let the LB's health checks see what the deletion does (or does not) do: three checks of
    // every backend made after it (two failed ones mark a backend UNHEALTHY)
    const socket = labPaths(t).lbControlSocket;
    await clearRecentChecks(socket);
    await waitForLb(socket, (s) => s.backends.every((b) => (b.recentChecks ?? []).length >= 3), 10_000).catch(() => undefined);
    // A deletion that breaks replies makes requests wait for their timeout: 2.5 s, not 5, is ample
    // on loopback even on a loaded machine (1 s was not), and still below the lab LB's own 5 s.
    const outcome = await labVerify(t, { requests: 20, requestTimeoutMs: 2500 });
    const failing = outcome.results.filter((r) => r.verdict === "fail").map((r) => r.id);
    const named = outcome.diagnosis.some((d) => d.subject === node && d.cause !== "unexplained" && d.evidence.some((e) => e.rule === rule || e.detail.includes(rule!)));
    const seen = { node, rule, failing, named, diagnosis: outcome.diagnosis.map((d) => `${d.hop} ${d.subject} ${d.cause}: ${d.summary}`) };
    if (failing.length > 0) expect(seen).toMatchObject({ named: true });
    expect(outcome.diagnosis.filter((d) => d.cause === "unexplained")).toEqual([]);
  });
});
