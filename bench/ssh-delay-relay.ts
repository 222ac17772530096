// A TCP relay that delays every chunk by a fixed time in each direction: a stand-in for
// `tc qdisc ... netem delay` on kernels built without netem. One process relays any number of
// listen -> target pairs: bench/lab-fanout.ts runs one in the root namespace for all its nodes
// (one Node process per node cost more CPU in wake-ups and scheduling than the relaying itself);
// bench/ssh-concurrency.ts one inside each node's namespace.
//
//   node bench/ssh-delay-relay.ts <delay-ms> <listen-host>:<listen-port>=<target-host>:<target-port> ...
// A listen port of 0 takes any free port. Prints one "relay <host>:<port> -> ..." line per pair, in
// the order given and with the port each really listens on, once all of them listen.
import { createConnection, createServer, type Server, type Socket } from "node:net";

// Named apart from the verifier's own Node process in `ps` and `perf report --sort comm`.
process.title = "ssh-delay-relay";

const [delayText, ...pairTexts] = process.argv.slice(2);
const delayMs = Number(delayText);
const pairs = pairTexts.map((text) => /^([\d.]+):(\d+)=([\d.]+):(\d+)$/.exec(text));
if (!(delayMs >= 0) || pairs.length === 0 || pairs.some((p) => p === null)) {
  console.error("usage: ssh-delay-relay.ts <delay-ms> <listen-host>:<listen-port>=<target-host>:<target-port> ...");
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

function relay(targetHost: string, targetPort: number): Server {
  return createServer((client) => {
    const upstream = createConnection({ host: targetHost, port: targetPort });
    // A link adds latency, not Nagle's coalescing: send each chunk as soon as its delay is over.
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    delayedPipe(client, upstream);
    delayedPipe(upstream, client);
    upstream.on("close", () => client.destroy());
    client.on("close", () => upstream.destroy());
  });
}

let listening = 0;
const lines: string[] = [];
(pairs as RegExpExecArray[]).forEach((m, i) => {
  const [, listenHost, listenPort, targetHost, targetPort] = m as unknown as [string, string, string, string, string];
  const server = relay(targetHost, Number(targetPort));
  server.listen(Number(listenPort), listenHost, () => {
    const port = (server.address() as { port: number }).port;
    lines[i] = `relay ${listenHost}:${port} -> ${targetHost}:${targetPort}, ${delayMs} ms each way`;
    if (++listening === pairs.length) console.log(lines.join("\n"));
  });
});
process.on("SIGTERM", () => process.exit(0));
