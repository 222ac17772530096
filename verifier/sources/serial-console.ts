// The second source of the nodes' SSH host keys: what each node printed on its serial console at
// first boot, read through the Compute API (instances.getSerialPortOutput) and parsed by
// host-keys.ts. Kept apart from host-keys.ts so the SSH source does not load the Compute client.
import type { compute_v1 } from "@googleapis/compute";
import type { Problem } from "../model";
import { computeClient, errorStatus, gcpProblem, type GcpOptions } from "./gcp";
import { parseConsoleHostKeys, type ConsoleHostKeys } from "./host-keys";

/** What fetchConsoleHostKeys found for one instance. */
export interface NodeConsoleHostKeys extends ConsoleHostKeys {
  /** where the returned output starts (bytes since boot); > 0 means older output is gone */
  start: number;
}

/**
 * Each instance's host keys from its serial port 1 output (Compute instances.getSerialPortOutput,
 * `GET .../zones/{zone}/instances/{name}/serialPort?port=1&start=0`; needs the permission
 * compute.instances.getSerialPortOutput, and the organization policy
 * constraints/compute.disableSerialPortLogging must not be on). An instance whose output cannot be
 * read, or holds no block, is left out of the map and its reason goes to opts.problems.
 */
export async function fetchConsoleHostKeys(
  project: string,
  instances: { name: string; zone: string }[],
  opts: GcpOptions,
): Promise<Map<string, NodeConsoleHostKeys>> {
  const found = new Map<string, NodeConsoleHostKeys>();
  const report = (problem: Problem, detail: string) => {
    opts.problems?.push(problem);
    opts.progress.hop("host keys (serial console)", "fail", `${problem.subject}: ${detail}`);
  };
  let api: compute_v1.Compute;
  try {
    api = await computeClient(opts);
  } catch (error) {
    for (const { name } of instances) report({ source: "gcp", subject: name, message: `serial console: ${(error as Error).message}`, hint: "run `gcloud auth application-default login` and re-run" }, "no credentials");
    return found;
  }
  await Promise.all(
    instances.map(async ({ name, zone }) => {
      opts.progress.hop("host keys (serial console)", "start", name);
      try {
        const { data } = await api.instances.getSerialPortOutput({ project, zone, instance: name, port: 1, start: "0" });
        const parsed = parseConsoleHostKeys(data.contents ?? "");
        const start = Number(data.start ?? 0);
        if (parsed.fingerprints.length === 0 && parsed.keys.length === 0) {
          const lost = start > 0 ? `; the output starts at byte ${start}, so the first boot's lines may be gone (the serial buffer keeps only recent output)` : "";
          report(
            { source: "gcp", subject: name, message: `instance ${name} printed no SSH host keys on its serial console (${parsed.warnings.join("; ")}${lost})`, hint: consoleHint(project, zone, name) },
            "no host key block",
          );
          return;
        }
        found.set(name, { ...parsed, start });
        opts.progress.hop("host keys (serial console)", "ok", `${name}: ${parsed.keys.length} key(s), ${parsed.fingerprints.length} fingerprint(s)`);
      } catch (error) {
        const problem = gcpProblem(error, project, `serial console of ${name}`, name);
        if (errorStatus(error) === 403 || errorStatus(error) === 400) problem.hint = consoleHint(project, zone, name);
        report(problem, (error as Error).message);
      }
    }),
  );
  return found;
}

function consoleHint(project: string, zone: string, name: string): string {
  return (
    "reading it needs compute.instances.getSerialPortOutput (roles/compute.instanceAdmin.v1 has it) and serial port logging not disabled by " +
    `the organization policy constraints/compute.disableSerialPortLogging; look yourself with gcloud compute instances get-serial-port-output ${name} --zone ${zone} --project ${project} | grep -A6 "BEGIN SSH HOST KEY"`
  );
}
