// The request step of `lab verify`, run INSIDE the client namespace (`ip netns exec <client> ...`)
// so the requests come from the lab's client, not from the root namespace. Prints one JSON
// RequestsModel on stdout.
//   client-requests.ts <url> <count> <keep-alive: 0|1> <timeout ms>
import { sendRequests } from "../verifier/requests";

async function main(): Promise<void> {
  const [url, countText, keepAliveText, timeoutText] = process.argv.slice(2);
  const count = Number(countText);
  const timeoutMs = Number(timeoutText ?? 5000);
  if (!url || !Number.isInteger(count) || !["0", "1"].includes(keepAliveText ?? "")) {
    throw new Error("usage: client-requests.ts <url> <count> <keep-alive 0|1> [timeout ms]");
  }
  const model = await sendRequests(url, count, { keepAlive: keepAliveText === "1", timeoutMs });
  process.stdout.write(`${JSON.stringify(model)}\n`);
}

main().catch((error: Error) => {
  console.error(`client-requests: ${error.message}`);
  process.exit(2);
});
