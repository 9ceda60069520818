/**
 * The connection pool against the real server: reuse per (address,
 * token), pooled connections survive their users' `close()`, and
 * `Pool.close()` ends them all.
 */
import type * as grpc from "@grpc/grpc-js";
import {
  Code,
  dialContext,
  type Dialer,
  failOnNonTempDialError,
  healthCheck,
  Pool,
  ServingStatus,
} from "../../src/client/mod.ts";
import { assert, assertEquals, assertRejects } from "../helpers/assert.ts";
import { startTestServer } from "../helpers/server.ts";

const TOKEN = "pool-secret";

Deno.test("pool: one connection per (address, token)", async () => {
  const server = await startTestServer({ token: TOKEN });
  const pool = new Pool();
  try {
    const a = await pool.dial(server.unixAddress, TOKEN);
    const b = await pool.dial(server.unixAddress, TOKEN);
    assert(a === b, "same address and token: same connection");
    const otherToken = await pool.dial(server.unixAddress, "other");
    assert(otherToken !== a, "another token: another connection");
    const otherAddress = await pool.dial(`tcp://${server.tcpAddress}`, TOKEN);
    assert(otherAddress !== a, "another address: another connection");
    assertEquals(pool.size, 3);

    assertEquals(await healthCheck(a), ServingStatus.SERVING);
    assertEquals(await healthCheck(otherAddress), ServingStatus.SERVING);
    const denied = await assertRejects(healthCheck(otherToken));
    assertEquals((denied as grpc.ServiceError).code, Code.PERMISSION_DENIED);

    // A user closing a pooled connection does not close it for the others.
    a.close();
    assertEquals(await healthCheck(b), ServingStatus.SERVING);

    await pool.close();
    assertEquals(pool.size, 0);
    const closed = await assertRejects(healthCheck(a));
    assert((closed as grpc.ServiceError).code !== Code.OK);
    // The pool can be used again after close: a fresh connection.
    const again = await pool.dial(server.unixAddress, TOKEN);
    assert(again !== a);
    assertEquals(await healthCheck(again), ServingStatus.SERVING);
  } finally {
    await pool.close();
    await server.stop();
  }
});

Deno.test("pool: concurrent dials share one dial; failed dials are not kept", async () => {
  let dials = 0;
  const counting: Dialer = (address, options) => {
    dials++;
    return dialContext(address, options);
  };
  const dir = await Deno.makeTempDir();
  const pool = new Pool({ dialer: counting, dialOptions: failOnNonTempDialError() });
  try {
    const missing = `unix:${dir}/none.socket`;
    const results = await Promise.allSettled([pool.dial(missing, ""), pool.dial(missing, "")]);
    assertEquals(results.map((r) => r.status), ["rejected", "rejected"]);
    assertEquals(dials, 1);
    assertEquals(pool.size, 0);
    await assertRejects(pool.dial(missing, ""), /ENOENT/);
    assertEquals(dials, 2);
    await assertRejects(pool.dial("", ""), /address is empty/);
  } finally {
    await pool.close();
    await Deno.remove(dir, { recursive: true });
  }
});
