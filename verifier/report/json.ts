// The JSON report (design.md, "contract: verify report JSON", schemaVersion 2): one object with the
// target, the outcome, the path in the article's order, the checks, the diagnosis and the model,
// minus secrets and, unless asked, minus the nodes' raw dumps (the nat table, its counters, the filter
// table: long; --include-dumps keeps them).
import type { CheckResult, Diagnosis, NatDump, PathModel } from "../model";
import { diagnose } from "../checks/diagnosis";
import { redactSecrets } from "../outputs";
import { redactValue } from "../redact";
import { account, pathNotes } from "./common";
import { buildPath } from "./path";

export interface JsonOptions {
  includeDumps?: boolean;
  /** the exit code and its reason, when the caller has them */
  outcome?: { exitCode: number; reason: string };
  /** the run's diagnosis; computed from the model and results when not given */
  diagnosis?: Diagnosis[];
  /**
   * The lab's own accounting (lab verify): per node, the connections its LB opened next to the
   * nat counters. Any JSON-able value; the verifier does not know the lab's types.
   */
  lab?: unknown;
}

/** Keys whose values are credentials wherever they appear. */
const SECRET_KEYS = new Set(["kubeconfig", "sshPrivateKey", "privateKey", "token", "accessToken", "caData"]);
/** The NodeModel fields that hold a whole saved table (NatDump): nat, its counters, forwarding.filter. */
const DUMP_KEYS = new Set(["nat", "countersBefore", "countersAfter", "filter"]);

function withoutDump(dump: NatDump): Omit<NatDump, "text" | "lineNumbers"> & { lines: number } {
  return { command: dump.command, backend: dump.backend, lines: dump.text.split("\n").length, ...(dump.reduction ? { reduction: dump.reduction } : {}) };
}

export function sanitizeModel(model: PathModel, includeDumps = false): unknown {
  return JSON.parse(
    JSON.stringify(model, (key, value) => {
      if (SECRET_KEYS.has(key)) return "[redacted]";
      if (!includeDumps && DUMP_KEYS.has(key) && value && typeof value === "object" && typeof value.text === "string") return withoutDump(value as NatDump);
      return value;
    }),
  );
}

export function renderJson(rawModel: PathModel, rawResults: CheckResult[], rawOpts: JsonOptions = {}): string {
  // Every value passes the one redaction before the report is built (and the whole text again at the end).
  const { model, results, opts } = redactValue({ model: rawModel, results: rawResults, opts: rawOpts });
  const clean = sanitizeModel(model, opts.includeDumps) as PathModel;
  const diagnosis = opts.diagnosis ?? diagnose(model, results);
  const report = {
    schemaVersion: 2,
    target: clean.target,
    // Only the two fields: a whole VerifyOutcome passed here would carry the unredacted model.
    ...(opts.outcome ? { outcome: { exitCode: opts.outcome.exitCode, reason: opts.outcome.reason } } : {}),
    notes: pathNotes(model),
    // The article's hops in order with their real values and per-node counters (design.md contract).
    path: buildPath(model, results, undefined, diagnosis),
    checks: results,
    diagnosis,
    connections: account(model) ?? null,
    ...(opts.lab !== undefined ? { lab: opts.lab } : {}),
    problems: clean.problems,
    model: clean,
  };
  // Last line of defence: a private key pasted into some message never leaves.
  return redactSecrets(JSON.stringify(report, null, 2)) + "\n";
}
