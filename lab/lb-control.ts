// Talks to the lab LB's control socket (see lb-proxy.mts). A unix socket lives on the filesystem,
// so the root namespace reaches it without any route into the lb namespace.
import http from "node:http";
import { asRoot } from "../verifier/cli/as-root";

export type LbHealthState = "UNKNOWN" | "HEALTHY" | "UNHEALTHY";

export interface LbBackendStatus {
  name: string;
  ip: string;
  port: number;
  state: LbHealthState;
  lastCheckAt?: string;
  lastCheckError?: string;
  /** the last health-check results, oldest first: "ok" or why it failed ("HTTP 301", "connect ECONNREFUSED ...") */
  recentChecks?: string[];
  /** TCP connections the LB opened to this node for proxied requests */
  proxyConnections: number;
  /** TCP connections the LB opened to this node for health checks */
  healthCheckConnections: number;
  proxiedRequests: number;
  proxyErrors: number;
  /** NEG endpoints (lab up --backend neg): the instance that hosts the pod, the NEG's zone and name */
  instance?: string;
  zone?: string;
  group?: string;
  /** NEG endpoints: false while the NEG is detached from the backend service (neither checked nor used) */
  attached?: boolean;
  /** when a health check first passed, and last passed (ISO 8601); absent: never */
  firstOkAt?: string;
  lastOkAt?: string;
}

export interface LbStatus {
  pid: number;
  listen: string;
  keepAlive: boolean;
  healthChecksPaused: boolean;
  healthCheckPath: string;
  healthCheckIntervalMs: number;
  requestsReceived: number;
  noBackendAnswers: number;
  backends: LbBackendStatus[];
}

function call(socketPath: string, method: "GET" | "POST", path: string, timeoutMs = 3000): Promise<LbStatus> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, method, path, timeout: timeoutMs }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => {
        if (res.statusCode !== 200) return reject(new Error(`lab LB control ${method} ${path}: HTTP ${res.statusCode}: ${body.trim()}`));
        try {
          resolve(JSON.parse(body) as LbStatus);
        } catch (error) {
          reject(new Error(`lab LB control ${method} ${path}: answer is not JSON (${(error as Error).message})`));
        }
      });
    });
    req.on("timeout", () => req.destroy(new Error(`lab LB control socket ${socketPath}: no answer within ${timeoutMs} ms`)));
    req.on("error", (e) =>
      reject(new Error(`lab LB control socket ${socketPath} unreachable (${e.message}); is the lab up? run: ${asRoot("npm run lab -- up")}`)),
    );
    req.end();
  });
}

export const lbStatus = (socketPath: string) => call(socketPath, "GET", "/status");
export const setHealthChecksPaused = (socketPath: string, paused: boolean) =>
  call(socketPath, "POST", `/health-checks?paused=${paused ? 1 : 0}`);
export const clearRecentChecks = (socketPath: string) => call(socketPath, "POST", "/recent-checks/clear");
/** Takes a group (a NEG; of one zone, when given) out of the backend service, or puts it back (lab/neg-faults.ts). */
export const setGroupAttached = (socketPath: string, group: string, attached: boolean, zone?: string) =>
  call(socketPath, "POST", `/groups?${attached ? "attach" : "detach"}=${encodeURIComponent(group)}${zone ? `&zone=${encodeURIComponent(zone)}` : ""}`);
export const setLbKeepAlive = (socketPath: string, on: boolean) => call(socketPath, "POST", `/keep-alive?on=${on ? 1 : 0}`);

/** Waits until every backend is HEALTHY (the LB then spreads requests over all nodes). */
export async function waitForHealthy(socketPath: string, timeoutMs: number): Promise<LbStatus> {
  const deadline = Date.now() + timeoutMs;
  let last: LbStatus | undefined;
  let lastError: Error | undefined;
  for (;;) {
    try {
      last = await lbStatus(socketPath);
      if (last.backends.every((b) => b.state === "HEALTHY" || b.attached === false)) return last;
    } catch (error) {
      lastError = error as Error;
    }
    if (Date.now() > deadline) {
      const detail = last
        ? last.backends.map((b) => `${b.name} ${b.state}${b.lastCheckError ? ` (${b.lastCheckError})` : ""}`).join(", ")
        : (lastError?.message ?? "no status");
      throw new Error(`lab LB: not every node is healthy after ${timeoutMs} ms: ${detail}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Waits until `done(status)` holds (checked every 100 ms) and returns that status; on timeout
 * returns the last status read (the caller says what it was waiting for).
 */
export async function waitForLb(socketPath: string, done: (s: LbStatus) => boolean, timeoutMs: number): Promise<{ status?: LbStatus; met: boolean }> {
  const deadline = Date.now() + timeoutMs;
  let last: LbStatus | undefined;
  for (;;) {
    try {
      last = await lbStatus(socketPath);
      if (done(last)) return { status: last, met: true };
    } catch {
      /* the LB may be restarting; try again until the deadline */
    }
    if (Date.now() > deadline) return { status: last, met: false };
    await new Promise((r) => setTimeout(r, 100));
  }
}
