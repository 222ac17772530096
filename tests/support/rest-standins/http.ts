// A minimal HTTP server on 127.0.0.1:0 shared by the REST stand-ins: parses the request (path,
// query, JSON body), records it, and writes a JSON reply. The stand-ins decide what to answer.
import * as http from "node:http";
import type { AddressInfo } from "node:net";

export interface StandinRequest {
  method: string;
  /** decoded path, without the query */
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  body?: unknown;
}

export interface StandinReply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export interface StandinServer {
  /** e.g. http://127.0.0.1:40123 */
  url: string;
  /** every request answered so far, in order */
  requests: StandinRequest[];
  close(): Promise<void>;
}

export type StandinHandler = (request: StandinRequest) => StandinReply;

export async function startStandin(handle: StandinHandler): Promise<StandinServer> {
  const requests: StandinRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://standin");
      const raw = Buffer.concat(chunks).toString("utf8");
      let body: unknown;
      let reply: StandinReply;
      try {
        body = raw.length > 0 ? JSON.parse(raw) : undefined;
        const request: StandinRequest = {
          method: req.method ?? "GET",
          path: decodeURIComponent(url.pathname),
          query: url.searchParams,
          headers: req.headers,
          body,
        };
        requests.push(request);
        reply = handle(request);
      } catch (error) {
        reply = { status: 400, body: { message: `stand-in could not read the request: ${String(error)}` } };
      }
      const text = JSON.stringify(reply.body);
      res.writeHead(reply.status, {
        "content-type": "application/json; charset=UTF-8",
        "content-length": Buffer.byteLength(text),
        ...reply.headers,
      });
      res.end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The bearer token of a request, or undefined. */
export function bearerToken(request: StandinRequest): string | undefined {
  const header = request.headers.authorization;
  const match = typeof header === "string" ? /^Bearer (.+)$/.exec(header) : null;
  return match ? match[1] : undefined;
}
