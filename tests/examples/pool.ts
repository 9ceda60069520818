// tests/examples/pool.ts: one connection per (address, token), shared by everyone.
import { healthCheck, Pool, servingStatusName } from "../../src/client/mod.ts";

const address = Deno.env.get("GITALY_ADDRESS") ?? "unix:/var/opt/gitaly/gitaly.socket";
const token = Deno.env.get("GITALY_TOKEN") ?? "";

const pool = new Pool();
try {
  const first = await pool.dial(address, token);
  const second = await pool.dial(address, token);
  console.log(`same connection: ${first === second}`);
  console.log(servingStatusName(await healthCheck(second)));
  first.close(); // does nothing: pooled connections are closed by the pool
} finally {
  await pool.close();
}
