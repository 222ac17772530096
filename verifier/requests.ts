// End-to-end requests to the LB's public IP. By default every request opens a new TCP connection
// (no agent keep-alive, `Connection: close`) so each one is a new connection on the path.
import http from "node:http";
import https from "node:https";
import { isIP } from "node:net";
import type { RequestResult, RequestsModel } from "./model";

/** Upper bounds so a typo cannot turn the verifier into a load generator. */
export const MAX_REQUESTS = 1000;
export const MAX_BODY_BYTES = 64 * 1024;

export interface SendOptions {
  /** reuse one connection for all requests (default false: a new connection per request) */
  keepAlive?: boolean;
  /** per request: connect + answer */
  timeoutMs: number;
}

/** What a pod says about itself: hello-app's "Hostname: <pod>", the lab's "Pod IP: <ip>". */
export function parsePodAnswer(body: string): { podName?: string; podIp?: string } {
  const out: { podName?: string; podIp?: string } = {};
  for (const raw of body.split(/\r?\n/)) {
    const m = /^\s*([A-Za-z ]+?)\s*:\s*(\S+)\s*$/.exec(raw);
    if (!m) continue;
    const key = m[1].toLowerCase();
    if (key === "hostname" && out.podName === undefined) out.podName = m[2];
    if (key === "pod ip" && out.podIp === undefined && isIP(m[2])) out.podIp = m[2];
  }
  return out;
}

function requestOnce(url: URL, agent: http.Agent, keepAlive: boolean, timeoutMs: number): Promise<RequestResult> {
  const client = url.protocol === "https:" ? https : http;
  return new Promise((resolve) => {
    let settled = false;
    const done = (r: RequestResult) => {
      if (!settled) {
        settled = true;
        clearTimeout(timer);
        resolve(r);
      }
    };
    const req = client.request(url, { method: "GET", agent, headers: keepAlive ? {} : { Connection: "close" } }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (c: Buffer) => {
        size += c.length;
        if (size <= MAX_BODY_BYTES) chunks.push(c);
      });
      res.on("end", () => done({ status: res.statusCode, ...parsePodAnswer(Buffer.concat(chunks).toString("utf8")) }));
      res.on("error", (e) => done({ status: res.statusCode, error: e.message }));
    });
    // One deadline for connect + answer; destroying the request ends any half-open socket.
    const timer = setTimeout(() => {
      done({ error: `no answer within ${timeoutMs} ms` });
      req.destroy();
    }, timeoutMs);
    req.on("error", (e: NodeJS.ErrnoException) => done({ error: e.code ?? e.message }));
    req.end();
  });
}

/**
 * `count` sequential GETs to `url` (bounded by MAX_REQUESTS; each bounded by timeoutMs).
 * Never throws for network errors: each result carries its status or error.
 */
export async function sendRequests(url: string, count: number, opts: SendOptions): Promise<RequestsModel> {
  const parsed = new URL(url);
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw new Error(`sendRequests: ${url} is not an http(s) URL`);
  if (!Number.isInteger(count) || count < 0 || count > MAX_REQUESTS) throw new Error(`sendRequests: count ${count} must be an integer 0..${MAX_REQUESTS}`);
  if (!(opts.timeoutMs > 0)) throw new Error(`sendRequests: timeoutMs ${opts.timeoutMs} must be positive`);
  const keepAlive = opts.keepAlive ?? false;
  const AgentClass = parsed.protocol === "https:" ? https.Agent : http.Agent;
  const agent = new AgentClass({ keepAlive, maxSockets: 1 });
  const results: RequestResult[] = [];
  try {
    for (let i = 0; i < count; i++) results.push(await requestOnce(parsed, agent, keepAlive, opts.timeoutMs));
  } finally {
    agent.destroy();
  }
  return { url, results, keepAlive };
}
