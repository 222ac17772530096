// The lab's LB stand-in and pod servers on loopback (no root needed): round robin over healthy
// backends only, a fresh connection per proxied request unless keep-alive is on, health checks that
// take a stopped backend out, and pods that answer like hello-app plus their IP. pod-a and the LB run
// their compiled .mjs (as `npm run lab` does), pod-b its .mts source (as the namespace tests do).
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { lbStatus, setHealthChecksPaused, setLbKeepAlive, type LbStatus } from "../../lab/lb-control";
import { parsePodAnswer } from "../../verifier/requests";
import { ROOT } from "../support/cli";

const LOOPBACK = "127.0.0.1";
const children: ChildProcess[] = [];
let dir: string;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, LOOPBACK, () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** `script` under lab/ (the .mts source, as tests' labUp runs it) or under dist/lab/ (the .mjs build, as `npm run lab` runs it). */
function startScript(script: string, args: string[]): Promise<ChildProcess> {
  const path = script.endsWith(".mjs") ? join(ROOT, "dist", "lab", script) : join(ROOT, "lab", script);
  const child = spawn(process.execPath, ["--no-warnings", path, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let err = "";
    child.stderr!.on("data", (d) => (err += d));
    child.stdout!.once("data", () => resolve(child));
    child.once("exit", (code) => reject(new Error(`${script} exited ${code}: ${err}`)));
  });
}

function get(port: number, agent?: http.Agent): Promise<{ status: number; body: string; backend?: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: LOOPBACK, port, path: "/", agent: agent ?? false }, (res) => {
      let body = "";
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode!, body, backend: res.headers["x-lab-backend"] as string | undefined }));
    });
    req.on("error", reject);
  });
}

async function waitFor(socket: string, ok: (s: LbStatus) => boolean, timeoutMs = 5000): Promise<LbStatus> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await lbStatus(socket).catch(() => undefined);
    if (s && ok(s)) return s;
    if (Date.now() > deadline) throw new Error(`LB status never matched: ${JSON.stringify(s?.backends)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("lab LB proxy and pod servers (loopback)", () => {
  let lbPort: number;
  let socket: string;
  let podB: ChildProcess;
  const ports: Record<string, number> = {};

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "lab-lb-test-"));
    socket = join(dir, "lb.sock");
    for (const name of ["a", "b", "dead", "lb"]) ports[name] = await freePort();
    await startScript("pod-server.mjs", ["--name", "pod-a", "--ip", "10.99.0.1", "--port", String(ports.a), "--listen", LOOPBACK]);
    podB = await startScript("pod-server.mts", ["--name", "pod-b", "--ip", "10.99.0.2", "--port", String(ports.b), "--listen", LOOPBACK]);
    lbPort = ports.lb;
    const config = {
      listenIp: LOOPBACK,
      listenPort: lbPort,
      sourceIp: LOOPBACK,
      backends: [
        { name: "node-a", ip: LOOPBACK, port: ports.a },
        { name: "node-dead", ip: LOOPBACK, port: ports.dead },
        { name: "node-b", ip: LOOPBACK, port: ports.b },
      ],
      healthCheckPath: "/",
      healthCheckIntervalMs: 100,
      healthCheckTimeoutMs: 500,
      unhealthyThreshold: 2,
      healthyThreshold: 1,
      keepAlive: false,
      controlSocket: socket,
      requestTimeoutMs: 2000,
    };
    await startScript("lb-proxy.mjs", [JSON.stringify(config)]);
  });

  afterAll(() => {
    for (const c of children) c.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });

  test("pods answer like hello-app plus their IP", async () => {
    const answer = await get(ports.a);
    expect(answer.status).toBe(200);
    expect(answer.body).toBe("Hello, world!\nVersion: lab\nHostname: pod-a\nPod IP: 10.99.0.1\n");
    expect(parsePodAnswer(answer.body)).toEqual({ podName: "pod-a", podIp: "10.99.0.1" });
  });

  test("health checks mark live backends HEALTHY and the dead one UNHEALTHY", async () => {
    const s = await waitFor(socket, (st) => st.backends.every((b) => b.state !== "UNKNOWN"));
    expect(Object.fromEntries(s.backends.map((b) => [b.name, b.state]))).toEqual({ "node-a": "HEALTHY", "node-dead": "UNHEALTHY", "node-b": "HEALTHY" });
    expect(s.backends.find((b) => b.name === "node-dead")!.lastCheckError).toMatch(/ECONNREFUSED/);
  });

  test("round robin over healthy backends, one new connection per proxied request", async () => {
    await setHealthChecksPaused(socket, true);
    const before = await lbStatus(socket);
    const answers = [];
    for (let i = 0; i < 10; i++) answers.push(await get(lbPort));
    const after = await lbStatus(socket);
    await setHealthChecksPaused(socket, false);
    expect(answers.every((a) => a.status === 200)).toBe(true);
    const pods = answers.map((a) => parsePodAnswer(a.body).podName);
    expect(pods.filter((p) => p === "pod-a")).toHaveLength(5);
    expect(pods.filter((p) => p === "pod-b")).toHaveLength(5);
    // Alternating: never the same backend twice in a row while both are healthy.
    for (let i = 1; i < pods.length; i++) expect(pods[i]).not.toBe(pods[i - 1]);
    const delta = (name: string, field: "proxyConnections" | "healthCheckConnections" | "proxiedRequests") =>
      after.backends.find((b) => b.name === name)![field] - before.backends.find((b) => b.name === name)![field];
    expect(delta("node-a", "proxyConnections")).toBe(5);
    expect(delta("node-b", "proxyConnections")).toBe(5);
    expect(delta("node-dead", "proxyConnections")).toBe(0);
    expect(delta("node-a", "healthCheckConnections")).toBe(0);
  });

  test("keep-alive reuses the LB's connections to the backends", async () => {
    await setLbKeepAlive(socket, true);
    await setHealthChecksPaused(socket, true);
    const before = await lbStatus(socket);
    for (let i = 0; i < 10; i++) expect((await get(lbPort)).status).toBe(200);
    const after = await lbStatus(socket);
    await setHealthChecksPaused(socket, false);
    await setLbKeepAlive(socket, false);
    const opened = after.backends.reduce((s, b) => s + b.proxyConnections, 0) - before.backends.reduce((s, b) => s + b.proxyConnections, 0);
    const proxied = after.backends.reduce((s, b) => s + b.proxiedRequests, 0) - before.backends.reduce((s, b) => s + b.proxiedRequests, 0);
    expect(proxied).toBe(10);
    expect(opened).toBeGreaterThanOrEqual(1);
    expect(opened).toBeLessThanOrEqual(2);
  });

  test("a stopped backend fails its health checks and is skipped; none healthy gives 503", async () => {
    podB.kill("SIGTERM");
    await waitFor(socket, (st) => st.backends.find((b) => b.name === "node-b")!.state === "UNHEALTHY");
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await get(lbPort));
    expect(answers.map((a) => a.backend)).toEqual(["node-a", "node-a", "node-a", "node-a"]);
    expect(answers.every((a) => parsePodAnswer(a.body).podName === "pod-a")).toBe(true);

    children[0].kill("SIGTERM"); // pod-a
    await waitFor(socket, (st) => st.backends.every((b) => b.state === "UNHEALTHY"));
    const none = await get(lbPort);
    expect(none.status).toBe(503);
    expect(none.body).toMatch(/no healthy backend/);
  });
});
