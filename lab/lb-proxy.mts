// The lab's stand-in for the Google front end: an HTTP reverse proxy on the LB's "public IP" that
// round-robins over node-ip:nodePort of every node (the instance group's named port), health-checks
// each node on `/` and skips unhealthy ones. By default every proxied request opens a fresh TCP
// connection, so each one is a new connection the nodes' nat rules count; keep-alive can be switched
// on to show how reused connections leave the counters still.
//
// With `lab up --backend neg` the backends are the NEG endpoints p-ip:p-port instead (each with
// the instance that hosts it and its NEG), health-checked and proxied to directly, as a NEG-backed
// backend service does; a whole NEG can be detached from the backend service (see lab/neg.ts).
//
// Self-contained (type-only imports, which Node strips) so Node runs it directly inside the lb namespace:
//   node lab/lb-proxy.mts '<json config>'
// A control/status API listens on a unix socket (filesystem, so reachable from the root namespace):
//   GET  /status                      backends with health state and connection counts
//   POST /health-checks?paused=1|0    hold or resume health checks (exact counter accounting in tests)
//   POST /recent-checks/clear         forget the recent health-check results (after `lab repair`)
//   POST /keep-alive?on=1|0           reuse connections to nodes, or open one per request (default)
//   POST /groups?detach=NAME|attach=NAME[&zone=Z]   take a NEG (of one zone) out of the backend service, or put it back
import http from "node:http";
import fs from "node:fs";
import type { Socket } from "node:net";
import type { LbBackendStatus, LbStatus } from "./lb-control.ts";

interface BackendConfig {
  /** instance (node) name; for a NEG endpoint "p-ip:p-port" */
  name: string;
  ip: string;
  port: number;
  /** NEG endpoints: the instance (node) that hosts the pod, the NEG's zone and name */
  instance?: string;
  zone?: string;
  group?: string;
}

interface ProxyConfig {
  listenIp: string;
  listenPort: number;
  /** source address for connections to nodes (the LB's VPC address) */
  sourceIp: string;
  backends: BackendConfig[];
  healthCheckPath: string;
  healthCheckIntervalMs: number;
  healthCheckTimeoutMs: number;
  /** consecutive failures before a healthy backend is marked UNHEALTHY */
  unhealthyThreshold: number;
  /** consecutive successes before an unhealthy backend is marked HEALTHY */
  healthyThreshold: number;
  keepAlive: boolean;
  controlSocket: string;
  requestTimeoutMs: number;
}

/** What /status reports of a node, plus the consecutive check results that decide its state. */
interface BackendState extends LbBackendStatus {
  successes: number;
  failures: number;
}

const config = parseConfig(process.argv[2]);
/** health-check results kept per node in /status */
const RECENT_CHECKS = 10;
const backends: BackendState[] = config.backends.map((b) => ({
  ...b,
  state: "UNKNOWN",
  successes: 0,
  failures: 0,
  proxyConnections: 0,
  healthCheckConnections: 0,
  proxiedRequests: 0,
  proxyErrors: 0,
}));
let keepAlive = config.keepAlive;
/** groups (NEGs) taken out of the backend service: neither checked nor sent to */
const detachedGroups = new Set<string>();
/** NEGs of one name exist per zone: a group is "<zone>/<name>" when a zone is given, else every zone's */
const groupKey = (name: string, zone?: string | null) => (zone ? `${zone}/${name}` : name);
const attached = (b: Pick<BackendState, "group" | "zone">) =>
  b.group === undefined || !(detachedGroups.has(b.group) || detachedGroups.has(groupKey(b.group, b.zone)));
let healthChecksPaused = false;
let nextBackend = 0;
let requestsReceived = 0;
let noBackendAnswers = 0;
const keepAliveAgent = new http.Agent({ keepAlive: true, maxSockets: 16 });
/** sockets already counted, so a reused keep-alive socket is not counted twice */
const countedSockets = new WeakSet<Socket>();

function parseConfig(text: string | undefined): ProxyConfig {
  if (!text) {
    console.error("lb-proxy: pass the configuration as one JSON argument");
    process.exit(2);
  }
  try {
    return JSON.parse(text) as ProxyConfig;
  } catch (error) {
    console.error(`lb-proxy: configuration is not JSON: ${(error as Error).message}`);
    process.exit(2);
  }
}

function countNewConnection(socket: Socket, backend: BackendState, purpose: "proxy" | "health"): void {
  if (countedSockets.has(socket)) return;
  countedSockets.add(socket);
  if (purpose === "proxy") backend.proxyConnections++;
  else backend.healthCheckConnections++;
}

// ---------------------------------------------------------------- health checks

function checkOnce(backend: BackendState): Promise<void> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (ok: boolean, error?: string) => {
      if (settled) return;
      settled = true;
      backend.lastCheckAt = new Date().toISOString();
      backend.lastCheckError = error;
      // A short history, so a reader sees a node flapping between HEALTHY and UNHEALTHY.
      backend.recentChecks = [...(backend.recentChecks ?? []), ok ? "ok" : (error ?? "failed")].slice(-RECENT_CHECKS);
      if (ok) {
        backend.lastOkAt = backend.lastCheckAt;
        backend.firstOkAt ??= backend.lastCheckAt;
        backend.failures = 0;
        backend.successes++;
        if (backend.state !== "HEALTHY" && backend.successes >= config.healthyThreshold) backend.state = "HEALTHY";
      } else {
        backend.successes = 0;
        backend.failures++;
        if (backend.state !== "UNHEALTHY" && (backend.state === "UNKNOWN" || backend.failures >= config.unhealthyThreshold)) {
          backend.state = "UNHEALTHY";
        }
      }
      resolve();
    };
    // Like the Google health checkers: a fresh connection per probe.
    const req = http.request(
      {
        host: backend.ip,
        port: backend.port,
        path: config.healthCheckPath,
        method: "GET",
        localAddress: config.sourceIp,
        agent: false,
        headers: { "user-agent": "lab-health-checker", connection: "close" },
        timeout: config.healthCheckTimeoutMs,
      },
      (res) => {
        res.resume();
        res.on("end", () => finish(res.statusCode === 200, res.statusCode === 200 ? undefined : `HTTP ${res.statusCode}`));
        res.on("error", (e) => finish(false, e.message));
      },
    );
    req.on("socket", (s) => countNewConnection(s, backend, "health"));
    req.on("timeout", () => req.destroy(new Error(`no answer within ${config.healthCheckTimeoutMs} ms`)));
    req.on("error", (e) => finish(false, e.message));
    req.end();
  });
}

async function healthLoop(): Promise<void> {
  for (;;) {
    if (!healthChecksPaused) await Promise.all(backends.filter(attached).map(checkOnce));
    await new Promise((r) => setTimeout(r, config.healthCheckIntervalMs));
  }
}

// ---------------------------------------------------------------- proxy

function pickBackend(): BackendState | undefined {
  for (let i = 0; i < backends.length; i++) {
    const candidate = backends[(nextBackend + i) % backends.length];
    if (candidate.state === "HEALTHY" && attached(candidate)) {
      nextBackend = (nextBackend + i + 1) % backends.length;
      return candidate;
    }
  }
  return undefined;
}

/** A proxy speaks for itself on each hop: the client's Connection header must not decide the node connection. */
const HOP_BY_HOP = ["connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade"];
function withoutHopByHop(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) if (!HOP_BY_HOP.includes(name)) out[name] = value;
  return out;
}

const proxy = http.createServer((clientReq, clientRes) => {
  requestsReceived++;
  const backend = pickBackend();
  if (!backend) {
    noBackendAnswers++;
    clientReq.resume();
    clientRes.writeHead(503, { "content-type": "text/plain" });
    clientRes.end("lab-lb: no healthy backend (every node failed its health check)\n");
    return;
  }
  const headers = withoutHopByHop(clientReq.headers);
  headers["x-forwarded-for"] = clientReq.socket.remoteAddress ?? "";
  headers["via"] = "1.1 lab-lb";
  if (!keepAlive) headers["connection"] = "close";
  const upstream = http.request(
    {
      host: backend.ip,
      port: backend.port,
      path: clientReq.url,
      method: clientReq.method,
      headers,
      localAddress: config.sourceIp,
      agent: keepAlive ? keepAliveAgent : false,
      timeout: config.requestTimeoutMs,
    },
    (upstreamRes) => {
      backend.proxiedRequests++;
      const responseHeaders = { ...withoutHopByHop(upstreamRes.headers), "x-lab-backend": backend.name, via: "1.1 lab-lb" };
      clientRes.writeHead(upstreamRes.statusCode ?? 502, responseHeaders);
      upstreamRes.pipe(clientRes);
    },
  );
  upstream.on("socket", (s) => countNewConnection(s, backend, "proxy"));
  upstream.on("timeout", () => upstream.destroy(new Error(`no answer within ${config.requestTimeoutMs} ms`)));
  upstream.on("error", (e) => {
    backend.proxyErrors++;
    if (!clientRes.headersSent) {
      clientRes.writeHead(502, { "content-type": "text/plain", "x-lab-backend": backend.name });
      clientRes.end(`lab-lb: backend ${backend.name} (${backend.ip}:${backend.port}) failed: ${e.message}\n`);
    } else {
      clientRes.destroy();
    }
  });
  clientReq.pipe(upstream);
});

// ---------------------------------------------------------------- control socket

function statusJson(): string {
  const status: LbStatus = {
    pid: process.pid,
    listen: `${config.listenIp}:${config.listenPort}`,
    keepAlive,
    healthChecksPaused,
    healthCheckPath: config.healthCheckPath,
    healthCheckIntervalMs: config.healthCheckIntervalMs,
    requestsReceived,
    noBackendAnswers,
    backends: backends.map(({ successes: _successes, failures: _failures, ...reported }) =>
      reported.group !== undefined ? { ...reported, attached: attached(reported) } : reported,
    ),
  };
  return JSON.stringify(status, null, 2);
}

const control = http.createServer((req, res) => {
  const url = new URL(req.url ?? "/", "http://control");
  req.resume();
  const flag = (name: string) => url.searchParams.get(name) === "1";
  if (req.method === "GET" && url.pathname === "/status") {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(statusJson());
  } else if (req.method === "POST" && url.pathname === "/health-checks") {
    healthChecksPaused = flag("paused");
    res.writeHead(200, { "content-type": "application/json" });
    res.end(statusJson());
  } else if (req.method === "POST" && url.pathname === "/recent-checks/clear") {
    for (const b of backends) b.recentChecks = [];
    res.writeHead(200, { "content-type": "application/json" });
    res.end(statusJson());
  } else if (req.method === "POST" && url.pathname === "/keep-alive") {
    keepAlive = flag("on");
    if (!keepAlive) keepAliveAgent.destroy();
    res.writeHead(200, { "content-type": "application/json" });
    res.end(statusJson());
  } else if (req.method === "POST" && url.pathname === "/groups" && (url.searchParams.has("detach") || url.searchParams.has("attach"))) {
    const detach = url.searchParams.get("detach");
    const attach = url.searchParams.get("attach");
    const zone = url.searchParams.get("zone");
    if (detach) detachedGroups.add(groupKey(detach, zone));
    if (attach) {
      detachedGroups.delete(groupKey(attach, zone));
      // A group put back starts over, as a newly added backend does: unknown until checked.
      for (const b of backends.filter((x) => x.group === attach && (!zone || x.zone === zone))) {
        Object.assign(b, { state: "UNKNOWN", successes: 0, failures: 0, recentChecks: [] });
      }
    }
    res.writeHead(200, { "content-type": "application/json" });
    res.end(statusJson());
  } else {
    res.writeHead(404, { "content-type": "text/plain" });
    res.end("GET /status, POST /health-checks?paused=1|0, POST /recent-checks/clear, POST /keep-alive?on=1|0, POST /groups?detach=NAME|attach=NAME[&zone=ZONE]\n");
  }
});

fs.rmSync(config.controlSocket, { force: true });
control.listen(config.controlSocket, () => {
  fs.chmodSync(config.controlSocket, 0o600);
  proxy.listen(config.listenPort, config.listenIp, () => {
    console.log(`lb-proxy listening on ${config.listenIp}:${config.listenPort}, control ${config.controlSocket}`);
    void healthLoop();
  });
});

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.on(signal, () => {
    fs.rmSync(config.controlSocket, { force: true });
    process.exit(0);
  });
}
