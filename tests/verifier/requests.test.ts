// sendRequests against real HTTP servers on 127.0.0.1: new connection per request by default,
// one connection with keep-alive, bounded time on silence, clear errors on refusal.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { parsePodAnswer, sendRequests, MAX_REQUESTS } from "../../verifier/requests";

const PODS = ["hello-5d7c9f6b8-2xk4p", "hello-5d7c9f6b8-w9tqz"];

async function podServer(): Promise<{ url: string; connections: () => number; headers: http.IncomingHttpHeaders[]; close: () => Promise<void> }> {
  let connections = 0;
  let served = 0;
  const headers: http.IncomingHttpHeaders[] = [];
  const server = http.createServer((req, res) => {
    headers.push(req.headers);
    const pod = PODS[served++ % 2];
    res.end(`Hello, world!\nVersion: 1.0.0\nHostname: ${pod}\nPod IP: 10.8.${served % 2 === 1 ? 0 : 2}.7\n`);
  });
  server.on("connection", () => connections++);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    connections: () => connections,
    headers,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

describe("parsePodAnswer", () => {
  test("reads hello-app's Hostname and the lab's Pod IP", () => {
    expect(parsePodAnswer("Hello, world!\nVersion: 1.0.0\nHostname: hello-5d7c9f6b8-2xk4p\n")).toEqual({ podName: "hello-5d7c9f6b8-2xk4p" });
    expect(parsePodAnswer("Hello, world!\r\nVersion: 2.0.0\r\nHostname: pod-2\r\nPod IP: 10.8.2.7\r\n")).toEqual({ podName: "pod-2", podIp: "10.8.2.7" });
  });
  test("ignores anything else", () => {
    expect(parsePodAnswer("<html>502 Bad Gateway</html>")).toEqual({});
    expect(parsePodAnswer("Pod IP: not-an-ip\n")).toEqual({});
  });
});

describe("sendRequests", () => {
  test("a new connection per request by default, with Connection: close", async () => {
    const s = await podServer();
    try {
      const r = await sendRequests(s.url, 6, { timeoutMs: 2000 });
      expect(r.keepAlive).toBe(false);
      expect(r.results.map((x) => x.status)).toEqual([200, 200, 200, 200, 200, 200]);
      expect(new Set(r.results.map((x) => x.podName))).toEqual(new Set(PODS));
      expect(r.results[0].podIp).toBe("10.8.0.7");
      expect(s.connections()).toBe(6);
      expect(s.headers.every((h) => h.connection === "close")).toBe(true);
    } finally {
      await s.close();
    }
  });

  test("--keep-alive reuses one connection", async () => {
    const s = await podServer();
    try {
      const r = await sendRequests(s.url, 5, { keepAlive: true, timeoutMs: 2000 });
      expect(r.results.filter((x) => x.status === 200)).toHaveLength(5);
      expect(s.connections()).toBe(1);
    } finally {
      await s.close();
    }
  });

  test("a silent server costs at most the timeout per request", async () => {
    const silent = http.createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    const { port } = silent.address() as AddressInfo;
    const started = Date.now();
    try {
      const r = await sendRequests(`http://127.0.0.1:${port}/`, 2, { timeoutMs: 150 });
      expect(r.results).toEqual([{ error: "no answer within 150 ms" }, { error: "no answer within 150 ms" }]);
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      silent.closeAllConnections();
      await new Promise((r) => silent.close(r));
    }
  });

  test("a closed port gives ECONNREFUSED per request, never a throw", async () => {
    const s = await podServer();
    const url = s.url;
    await s.close();
    const r = await sendRequests(url, 3, { timeoutMs: 1000 });
    expect(r.results).toEqual([{ error: "ECONNREFUSED" }, { error: "ECONNREFUSED" }, { error: "ECONNREFUSED" }]);
  });

  test("bounded count and sane arguments", async () => {
    await expect(sendRequests("http://127.0.0.1:9/", MAX_REQUESTS + 1, { timeoutMs: 100 })).rejects.toThrow(`0..${MAX_REQUESTS}`);
    await expect(sendRequests("ftp://127.0.0.1/", 1, { timeoutMs: 100 })).rejects.toThrow("not an http(s) URL");
    expect((await sendRequests("http://127.0.0.1:9/", 0, { timeoutMs: 100 })).results).toEqual([]);
  });
});
