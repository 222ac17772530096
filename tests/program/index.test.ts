// index.ts as `pulumi up` runs it: stack config from the runtime, exactly the contract outputs.
import * as pulumi from "@pulumi/pulumi";
import { RecordingMocks, rawConfig, valueOf } from "./harness";

/** design.md, "contract: stack outputs". */
const contractOutputs = [
  "url",
  "loadBalancerIp",
  "nodePort",
  "serviceClusterIp",
  "servicePort",
  "podPort",
  "project",
  "location",
  "clusterName",
  "namespace",
  "deploymentName",
  "serviceName",
  "ingressName",
  "nodeTag",
  "sshUser",
  "kubeconfig",
  "sshPrivateKey",
];

const mocks = new RecordingMocks();
beforeAll(() => mocks.install("dev"));

function runProgram(): Record<string, unknown> {
  let exported: Record<string, unknown> = {};
  jest.isolateModules(() => {
    exported = require("../../index");
  });
  return exported;
}

test("an invalid config stops the program before any resource is registered, naming every problem", async () => {
  pulumi.runtime.setAllConfig(rawConfig({ replicas: "5", nodeCount: "3", sshSourceRanges: "0.0.0.0/0", backendMode: "lb" }, null));
  let thrown: unknown;
  try {
    runProgram();
  } catch (err) {
    thrown = err;
  }
  const message = thrown instanceof Error ? thrown.message : "(nothing thrown)";
  expect(message).toMatch(/invalid stack config \(4 problems\)/);
  for (const key of ["gcp:project", "gke-ingress-path:replicas", "gke-ingress-path:sshSourceRanges", "gke-ingress-path:backendMode"]) {
    expect(message).toContain(key);
  }
  await mocks.settle();
  expect(mocks.registrations).toEqual([]);
});

test("a valid config exports exactly the contract outputs, kubeconfig and sshPrivateKey as secrets", async () => {
  pulumi.runtime.setAllConfig(rawConfig({ location: "us-east1-b", podPort: "8080" }));
  const exported = runProgram();
  expect(Object.keys(exported).filter((k) => k !== "__esModule").sort()).toEqual([...contractOutputs].sort());
  expect(exported.project).toBe("demo-project-1");
  expect(exported.location).toBe("us-east1-b");
  expect(exported.servicePort).toBe(80);
  expect(exported.podPort).toBe(8080);
  expect(exported.namespace).toBe("default");
  expect(await valueOf(exported.clusterName as pulumi.Output<string>)).toBe("gip-dev");
  expect(await pulumi.isSecret(exported.kubeconfig as pulumi.Output<string>)).toBe(true);
  expect(await pulumi.isSecret(exported.sshPrivateKey as pulumi.Output<string>)).toBe(true);
  await valueOf(exported.url as pulumi.Output<string>);
  await mocks.settle();
  expect(mocks.registrations.length).toBeGreaterThan(10);
  // Loads every provider SDK afresh (isolateModules): several seconds on a busy 2-core machine.
}, 30_000);
