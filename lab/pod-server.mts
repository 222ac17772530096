// A lab pod: answers every GET like Google's hello-app ("Hello, world!", version, hostname) plus the
// pod's IP, so a reader can tell from the answer alone which pod served it. Self-contained (no
// project imports) so Node runs it directly with type stripping inside a pod's network namespace:
//   node lab/pod-server.mts --name pod-1 --ip 10.213.65.2 --port 8080 [--listen ADDRESS] [--answer PATH=STATUS]...
// (--listen defaults to 0.0.0.0: inside a pod namespace that is the pod's own interfaces only.)
// --answer /=301 makes the pod answer that path with that status instead of 200, as an app that
// redirects "/" to a login page (301, Location /login) or has no route for it (404) does.
import http from "node:http";

function arg(name: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? process.argv[i + 1] : undefined;
  if (!value) {
    console.error(`pod-server: missing --${name} (usage: --name POD --ip POD_IP --port PORT)`);
    process.exit(2);
  }
  return value;
}

const podName = arg("name");
const podIp = arg("ip");
const port = Number(arg("port"));
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  console.error(`pod-server: --port must be 1..65535, got ${process.argv[process.argv.indexOf("--port") + 1]}`);
  process.exit(2);
}

function podAnswer(name: string, ip: string): string {
  return `Hello, world!\nVersion: lab\nHostname: ${name}\nPod IP: ${ip}\n`;
}

const listenIndex = process.argv.indexOf("--listen");
const listenAddress = listenIndex >= 0 ? (process.argv[listenIndex + 1] ?? "0.0.0.0") : "0.0.0.0";

const answers = new Map<string, number>();
process.argv.forEach((a, i) => {
  if (a !== "--answer") return;
  const m = /^(\/\S*)=(\d{3})$/.exec(process.argv[i + 1] ?? "");
  if (!m) {
    console.error(`pod-server: --answer takes PATH=STATUS, e.g. /=301, got ${process.argv[i + 1]}`);
    process.exit(2);
  }
  answers.set(m[1], Number(m[2]));
});

const server = http.createServer((req, res) => {
  // Drain the request body (there is none for GET) before answering.
  req.resume();
  const status = answers.get((req.url ?? "/").split("?")[0]);
  if (status !== undefined) {
    res.writeHead(status, { "content-type": "text/plain; charset=utf-8", ...(status >= 300 && status < 400 ? { location: "/login" } : {}) });
    res.end(`${status} from ${podName}\n`);
    return;
  }
  res.writeHead(200, { "content-type": "text/plain; charset=utf-8" });
  res.end(podAnswer(podName, podIp));
});

server.listen(port, listenAddress, () => {
  console.log(`pod-server ${podName} (${podIp}) listening on ${listenAddress}:${port}`);
});

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.on(signal, () => {
    server.close();
    process.exit(0);
  });
}
