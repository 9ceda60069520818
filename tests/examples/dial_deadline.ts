// tests/examples/dial_deadline.ts: wait for the connection, but not forever.
import { describeError, dialContext } from "../../src/client/mod.ts";

const address = Deno.env.get("GITALY_ADDRESS") ?? "unix:/var/opt/gitaly/gitaly.socket";
try {
  const conn = await dialContext(address, {
    token: Deno.env.get("GITALY_TOKEN"),
    deadline: Date.now() + 5_000, // or signal: AbortSignal.timeout(5_000)
    failOnNonTempDialError: true, // nothing listening: fail now, do not retry until the deadline
  });
  console.log(`connected to ${address}`);
  conn.close();
} catch (error) {
  console.error(describeError(error)); // failed to dial "…": connect ENOENT …
  Deno.exit(1);
}
