// --nodes: all, a deterministic sample that always holds the pods' nodes and one without, or names.
import type { KubernetesModel } from "../../verifier/model";
import { parseNodesFlag, selectNodes } from "../../verifier/sources/node-selection";
import type { NodeTarget } from "../../verifier/sources/types";

const names = Array.from({ length: 100 }, (_, i) => `gke-c-pool-${String(i).padStart(3, "0")}`);
const targets = (): NodeTarget[] => names.map((name) => ({ name, address: name, hostKeys: [] }));
const kube = {
  service: { namespace: "default", name: "hello", type: "NodePort", ports: [], selector: { app: "hello" }, annotations: {} },
  pods: [
    { name: "hello-1", labels: { app: "hello" }, nodeName: names[17] },
    { name: "hello-2", labels: { app: "hello" }, nodeName: names[83] },
    { name: "other", labels: { app: "other" }, nodeName: names[5] },
  ],
  nodes: [],
} as unknown as KubernetesModel;

test("the flag's forms, and what is wrong with a bad one", () => {
  expect(parseNodesFlag(undefined)).toEqual({ kind: "all" });
  expect(parseNodesFlag("all")).toEqual({ kind: "all" });
  expect(parseNodesFlag("10")).toEqual({ kind: "count", count: 10 });
  expect(parseNodesFlag("node-a,node-b,node-a")).toEqual({ kind: "named", names: ["node-a", "node-b"] });
  expect(parseNodesFlag("0")).toMatch(/--nodes 0: give a number >= 1/);
  expect(parseNodesFlag("Node_A")).toMatch(/--nodes Node_A: give "all", a number, or node names/);
});

test("a sample of 10 holds both pods' nodes and 8 others, the same on every run and in any input order", () => {
  const a = selectNodes(targets(), { kind: "count", count: 10 }, kube);
  const b = selectNodes(targets().reverse(), { kind: "count", count: 10 }, kube);
  expect(a.targets).toHaveLength(10);
  expect(a.selection.chosen).toEqual(expect.arrayContaining([names[17], names[83]]));
  expect([...a.selection.chosen].sort()).toEqual([...b.selection.chosen].sort());
  expect(a.selection).toMatchObject({ mode: "sample", of: 100 });
  expect(a.selection.note).toMatch(/a sample of 10 of 100 nodes \(--nodes 10\).*the 2 with the Service's pods.*the other 90 were not read/);
});

test("a sample smaller than the pods' nodes still reads them all and one node without a pod, and says so", () => {
  const s = selectNodes(targets(), { kind: "count", count: 1 }, kube);
  expect(s.selection.chosen).toHaveLength(3);
  expect(s.selection.chosen).toEqual(expect.arrayContaining([names[17], names[83]]));
  expect(s.selection.note).toMatch(/more than 1: every node with a pod of the Service, and one without, are always read/);
});

test("a number at least the node count reads all; names read exactly those and report unknown ones", () => {
  expect(selectNodes(targets(), { kind: "count", count: 500 }, kube).selection.mode).toBe("all");
  const named = selectNodes(targets(), { kind: "named", names: [names[3]!, "gke-c-pool-999"] }, kube);
  expect(named.targets.map((t) => t.name)).toEqual([names[3]]);
  expect(named.unknown).toEqual(["gke-c-pool-999"]);
  expect(named.selection.note).toBe(`1 of 100 nodes, named by --nodes: ${names[3]}`);
});
