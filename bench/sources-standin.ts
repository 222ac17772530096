// Prints how long the GCP and Kubernetes sources and the sweep take against the local REST
// stand-ins (loopback only), and how many API calls each makes: the client-side cost of a verify
// run, without Google's latency. Run: npx ts-node bench/sources-standin.ts [runs]
import { performance } from "node:perf_hooks";
import { collectLoadBalancer } from "../verifier/sources/gcp";
import { collectKubernetes } from "../verifier/sources/k8s";
import { silentProgress } from "../verifier/sources/types";
import { sweepProject } from "../verifier/sweep";
import { startComputeStandin } from "../tests/support/rest-standins/compute";
import { startKubeStandin } from "../tests/support/rest-standins/kube";
import { buildWorld, ingressAnnotations } from "../tests/support/rest-standins/world";

async function measure(label: string, runs: number, requests: () => number, once: () => Promise<unknown>): Promise<void> {
  await once(); // warm-up: module loading, first connections
  const before = requests();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await once();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  const perRun = (requests() - before) / runs;
  console.log(`${label.padEnd(34)} median ${times[Math.floor(runs / 2)].toFixed(1)} ms  p90 ${times[Math.floor(runs * 0.9)].toFixed(1)} ms  ${perRun} API calls/run`);
}

async function main(): Promise<void> {
  const runs = Number(process.argv[2] ?? 50);
  if (!Number.isInteger(runs) || runs < 1) {
    console.error(`usage: npx ts-node bench/sources-standin.ts [RUNS]   (RUNS: a whole number >= 1, default 50; got "${process.argv[2]}")`);
    process.exitCode = 2;
    return;
  }
  const world = buildWorld();
  const compute = await startComputeStandin(world.compute, { token: world.token });
  const kube = await startKubeStandin(world.kube, { token: world.token });
  const gcpOpts = { rootUrl: `${compute.url}/`, accessToken: world.token, progress: silentProgress };
  try {
    console.log(`${runs} runs each, Node ${process.versions.node}`);
    await measure("collectLoadBalancer (3 nodes)", runs, () => compute.requests.length, () => collectLoadBalancer(world.project, ingressAnnotations(world), gcpOpts));
    await measure("collectKubernetes", runs, () => kube.requests.length, () =>
      collectKubernetes({ server: kube.url, token: world.token }, { namespace: "default", serviceName: "hello", ingressName: "hello", deploymentName: "hello" }, silentProgress),
    );
    await measure("sweepProject (with --uid)", runs, () => compute.requests.length, () => sweepProject(world.project, { ...gcpOpts, uid: world.ingressUid }));
  } finally {
    await compute.close();
    await kube.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
