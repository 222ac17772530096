// Writes examples/snapshot/recorded-zonal/: what `npm run snapshot -- --ingress default/hello
// --no-ssh` saves, recorded by the snapshot command's own recorder (verifier/snapshot/record.ts)
// through the official clients, from the REST stand-ins' healthy zonal world instead of Google
// Cloud. tests/snapshot/example.test.ts records it again and compares, so the example stays what
// the recorder writes today.
//   npx ts-node tests/support/record-example.ts examples/snapshot/recorded-zonal
import { existsSync, readdirSync } from "node:fs";
import { SnapshotRecorder } from "../../verifier/snapshot/record";
import { verifyLiveIngress } from "../../verifier/snapshot/run";
import { loadLiveSources, type GkeSources } from "../../verifier/verify";
import { startComputeStandin } from "./rest-standins/compute";
import { startKubeStandin } from "./rest-standins/kube";
import { buildWorld } from "./rest-standins/world";

/** The world's Ingress, as the example's README names it. */
export const RECORDED_INGRESS = { namespace: "default", name: "hello" };

/**
 * Records the healthy world into `dir` (must not exist or be empty). Resolves to the number of
 * files the recorder wrote; rejects when a stand-in cannot start or the recording fails.
 */
export async function recordExample(dir: string, now = new Date()): Promise<number> {
  if (existsSync(dir) && readdirSync(dir).length > 0) throw new Error(`${dir}: exists and is not empty`);
  const world = buildWorld();
  const compute = await startComputeStandin(world.compute, { token: world.token });
  const kube = await startKubeStandin(world.kube, { token: world.token });
  try {
    const live = await loadLiveSources();
    const rootUrl = `${compute.url}/`;
    const sources: GkeSources = {
      ...live,
      collectLoadBalancer: (p, a, o) => live.collectLoadBalancer(p, a, { ...o, rootUrl }),
      fetchHostKeys: (p, i, o) => live.fetchHostKeys(p, i, { ...o, rootUrl }),
    };
    const recorder = new SnapshotRecorder(dir, now);
    await verifyLiveIngress(
      { access: { server: kube.url, token: world.token }, project: world.project, location: world.zone, cluster: world.clusterName },
      { ingress: RECORDED_INGRESS, requests: 0, timeoutMs: 5000, accessToken: world.token, noSsh: "--no-ssh was given" },
      undefined,
      recorder,
      sources,
    );
    return recorder.meta.reads.filter((r) => r.file).length;
  } finally {
    await compute.close();
    await kube.close();
  }
}

if (require.main === module) {
  const dir = process.argv[2];
  if (!dir) {
    process.stderr.write("usage: npx ts-node tests/support/record-example.ts DIR\n");
    process.exitCode = 2;
  } else {
    recordExample(dir).then(
      (n) => process.stderr.write(`${n} answers recorded in ${dir}\n`),
      (e: Error) => {
        process.stderr.write(`not recorded: ${e.message}\n`);
        process.exitCode = 2;
      },
    );
  }
}
