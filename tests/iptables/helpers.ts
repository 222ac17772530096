// Shared test helpers: fixture paths, and what a writer spec should trace to.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { NatRulesSpec } from "../../verifier/iptables/kube-proxy-rules";
import type { TraceResult } from "../../verifier/iptables/types";

export const FIXTURES = join(__dirname, "..", "fixtures");
export const readFixture = (name: string) => readFileSync(join(FIXTURES, name), "utf8");

export interface ExpectedService {
  service: string;
  protocol: string;
  clusterIP: string;
  port: number;
  nodePort: number | null;
  endpoints: { ip: string; port: number; share: number }[];
  nodePortEndpoints: { ip: string; port: number; share: number }[] | null;
}

/** What kube-proxy's rules for `spec` must do: an even split, Local nodePorts to local endpoints only. */
export function expectedFromSpec(spec: NatRulesSpec): ExpectedService[] {
  const isLocal = (ep: NatRulesSpec["services"][number]["endpoints"][number]) =>
    ep.local === true || (spec.nodeName !== undefined && ep.nodeName === spec.nodeName);
  const even = (eps: { ip: string; port: number }[]) => eps.map((e) => ({ ip: e.ip, port: e.port, share: 1 / eps.length }));
  return spec.services
    .filter((s) => s.endpoints.length > 0)
    .map((s) => ({
      service: s.portName ? `${s.namespace}/${s.name}:${s.portName}` : `${s.namespace}/${s.name}`,
      protocol: s.protocol,
      clusterIP: s.clusterIP,
      port: s.port,
      nodePort: s.nodePort ?? null,
      endpoints: even(s.endpoints),
      nodePortEndpoints: s.nodePort === undefined ? null : even(s.externalTrafficPolicy === "Local" ? s.endpoints.filter(isLocal) : s.endpoints),
    }));
}

/** Compare a trace with expectations; shares as numbers (the kernel stores probabilities as 32-bit fractions). */
export function expectTraceMatches(result: TraceResult, expected: ExpectedService[]): void {
  const byName = new Map(result.services.map((s) => [`${s.service}|${s.protocol}`, s]));
  expect(result.services).toHaveLength(expected.length);
  for (const e of expected) {
    const got = byName.get(`${e.service}|${e.protocol}`);
    expect(got).toBeDefined();
    if (!got) continue;
    expect({ clusterIP: got.clusterIP, port: got.port, nodePort: got.nodePort }).toEqual({ clusterIP: e.clusterIP, port: e.port, nodePort: e.nodePort });
    expectEndpoints(got.endpoints, e.endpoints);
    // whole dumps: every connection's fate is shown
    expect(got.unresolved).toEqual([]);
    if (e.nodePortEndpoints === null) {
      expect(got.nodePortEndpoints).toBeNull();
      expect(got.nodePortUnresolved).toBeNull();
    } else {
      expectEndpoints(got.nodePortEndpoints ?? undefined, e.nodePortEndpoints);
      expect(got.nodePortUnresolved).toEqual([]);
    }
  }
}

export function expectEndpoints(got: { ip: string; port: number; share: number }[] | undefined, want: { ip: string; port: number; share: number }[]): void {
  expect(got).toBeDefined();
  const sorted = (l: { ip: string; port: number; share: number }[]) => [...l].sort((a, b) => `${a.ip}:${a.port}`.localeCompare(`${b.ip}:${b.port}`));
  const g = sorted(got ?? []);
  const w = sorted(want);
  expect(g.map((x) => `${x.ip}:${x.port}`)).toEqual(w.map((x) => `${x.ip}:${x.port}`));
  g.forEach((x, i) => expect(x.share).toBeCloseTo(w[i].share, 6));
}

/** Mulberry32: a small seeded PRNG so fuzz runs are reproducible. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
