// `lab up --nodes 6` for real (root): six node namespaces with sshd, the LB health-checks all six,
// verify reads every node over SSH and passes the 12 claims on every node, the report groups the
// alike nodes, and `lab down` removes them all. Own prefix and block (10.248), see tests/support/namespaces.ts.
import { labDown, type DownReport } from "../../lab/down";
import { lbStatus } from "../../lab/lb-control";
import { listNamespaces } from "../../lab/netns";
import { labPaths, readState, runningTopology } from "../../lab/state";
import { labNamespaces, labTopology } from "../../lab/topology";
import { labUp } from "../../lab/up";
import { labVerify } from "../../lab/verify";
import { describeWithNamespaces } from "../support/namespaces";

// 6: the smallest lab whose report groups alike nodes (GROUP_FROM_NODES in verifier/report/common.ts).
const COUNT = 6;
const t = labTopology({ prefix: "giplnn-", net: "10.248", nodes: COUNT, healthCheckIntervalMs: 300 });
jest.setTimeout(120_000);

describeWithNamespaces(`lab up --nodes ${COUNT} (giplnn-, 10.248.0.0/16)`, () => {
  let downReport: DownReport | undefined;

  beforeAll(async () => {
    await labDown(t);
    await labUp(t);
  });

  afterAll(async () => {
    if (!downReport) await labDown(t);
  });

  test(`${COUNT} node namespaces, all health-checked by the LB; the state gives the count back`, async () => {
    expect((await listNamespaces(t.prefix)).sort()).toEqual([...labNamespaces(t)].sort());
    expect(labNamespaces(t).filter((ns) => ns.includes("node-"))).toHaveLength(COUNT);
    const status = await lbStatus(labPaths(t).lbControlSocket);
    expect(status.backends.map((b) => `${b.name} ${b.state}`)).toEqual(t.nodes.map((n) => `${n.name} HEALTHY`));
    expect(readState(t)?.nodes).toBe(COUNT);
    // What `lab verify` and `lab down` from the CLI see: the default count, corrected by the state.
    const fromState = runningTopology(labTopology({ prefix: t.prefix, net: t.net, stateDir: t.stateDir }));
    expect(fromState.nodes.map((n) => n.name)).toEqual(t.nodes.map((n) => n.name));
  });

  test("verify: every claim passes on all nodes, read over SSH; the report groups the alike nodes", async () => {
    const outcome = await labVerify(t, { requests: 30, width: 100 });
    const notPassing = outcome.results.filter((r) => r.verdict !== "pass").map((r) => `${r.id} ${r.verdict}: ${r.summary}`);
    expect(notPassing).toEqual([]);
    expect(outcome.model.nodes.map((n) => n.name)).toEqual(t.nodes.map((n) => n.name));
    expect(outcome.model.problems).toEqual([]);
    expect(outcome.terminal).toMatch(/more nodes?: same rules as node-\d/);
  });

  test("lab down removes every node and leaves nothing", async () => {
    downReport = await labDown(t);
    expect(downReport.leftovers).toEqual([]);
    expect(downReport.removedNamespaces).toHaveLength(COUNT + 4);
    expect(await listNamespaces(t.prefix)).toEqual([]);
  });
});
