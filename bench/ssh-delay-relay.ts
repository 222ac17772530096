// A TCP relay that delays every chunk by a fixed time in each direction: a stand-in for
// `tc qdisc ... netem delay` on kernels built without netem. Started by bench/ssh-concurrency.ts
// inside a node's namespace, between the client and that node's sshd.
//
//   node bench/ssh-delay-relay.ts <listen-host> <listen-port> <target-host> <target-port> <delay-ms>
import { createConnection, createServer, type Socket } from "node:net";

const [listenHost, listenPort, targetHost, targetPort, delayText] = process.argv.slice(2);
const delayMs = Number(delayText);
if (!listenHost || !listenPort || !targetHost || !targetPort || !(delayMs >= 0)) {
  console.error("usage: ssh-delay-relay.ts <listen-host> <listen-port> <target-host> <target-port> <delay-ms>");
  process.exit(2);
}

/** Forwards from -> to, each chunk after delayMs, in arrival order (like a link's latency, not its bandwidth). */
function delayedPipe(from: Socket, to: Socket): void {
  from.on("data", (chunk: Buffer) => {
    setTimeout(() => {
      if (!to.destroyed) to.write(chunk);
    }, delayMs);
  });
  from.on("end", () => setTimeout(() => to.end(), delayMs));
  from.on("error", () => to.destroy());
}

const server = createServer((client) => {
  const upstream = createConnection({ host: targetHost, port: Number(targetPort) });
  // A link adds latency, not Nagle's coalescing: send each chunk as soon as its delay is over.
  client.setNoDelay(true);
  upstream.setNoDelay(true);
  delayedPipe(client, upstream);
  delayedPipe(upstream, client);
  upstream.on("close", () => client.destroy());
  client.on("close", () => upstream.destroy());
});
server.listen(Number(listenPort), listenHost, () => console.log(`relay ${listenHost}:${listenPort} -> ${targetHost}:${targetPort}, ${delayMs} ms each way`));
process.on("SIGTERM", () => process.exit(0));
