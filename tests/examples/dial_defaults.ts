// tests/examples/dial_defaults.ts: dial with the defaults and ask the server for its health.
import { dial, healthCheck, servingStatusName } from "../../src/client/mod.ts";

const address = Deno.env.get("GITALY_ADDRESS") ?? "unix:/var/opt/gitaly/gitaly.socket";
// Returns at once; the connection is made on the first call (keepalive 20 s / 10 s).
const conn = dial(address, { token: Deno.env.get("GITALY_TOKEN") });
try {
  console.log(servingStatusName(await healthCheck(conn)));
} finally {
  conn.close();
}
