// `lab status` at scale: from GROUP_FROM_NODES backends on, backends in the same state on the same
// port are one line naming a few and counting all, with their connections added up; a backend in
// another state keeps its own line; the article's three nodes keep a line each.
import type { LbBackendStatus } from "../../lab/lb-control";
import { backendStatusLines } from "../../lab/source";

function backend(i: number, over: Partial<LbBackendStatus> = {}): LbBackendStatus {
  return { name: `node-${i}`, ip: `10.213.0.${10 + i}`, port: 30080, state: "HEALTHY", recentChecks: ["ok", "ok"], proxyConnections: 2, healthCheckConnections: 10 + i, proxiedRequests: 2, proxyErrors: 0, ...over };
}
const many = (n: number) => Array.from({ length: n }, (_, i) => backend(i + 1));

test("the article's three nodes: a line each, as before", () => {
  expect(backendStatusLines(many(3))).toEqual([
    "  node-1 10.213.0.11:30080 HEALTHY: 2 proxy + 11 health-check connections",
    "  node-2 10.213.0.12:30080 HEALTHY: 2 proxy + 12 health-check connections",
    "  node-3 10.213.0.13:30080 HEALTHY: 2 proxy + 13 health-check connections",
  ]);
});

test("50 healthy nodes: one line, every node counted, connections added up", () => {
  // health checks: 11 + 12 + ... + 60
  expect(backendStatusLines(many(50))).toEqual(["  all 50 nodes on :30080 HEALTHY: node-1, node-2, node-3 and 47 more; 100 proxy + 1775 health-check connections in all"]);
});

test("a node in another state keeps its own line, with why; the others are counted apart from it", () => {
  const backends = many(50);
  backends[6] = backend(7, { state: "UNHEALTHY", lastCheckError: "HTTP 503", recentChecks: ["HTTP 503", "HTTP 503"], proxyConnections: 0 });
  const lines = backendStatusLines(backends);
  expect(lines).toEqual([
    "  49 nodes on :30080 HEALTHY: node-1, node-2, node-3 and 46 more; 98 proxy + 1758 health-check connections in all",
    "  node-7 10.213.0.17:30080 UNHEALTHY (HTTP 503): 0 proxy + 17 health-check connections",
  ]);
});
