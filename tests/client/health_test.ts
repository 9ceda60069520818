/**
 * Health checks and the health-checking dialer: a server that answers
 * SERVING (ours), one that answers NOT_SERVING (a tiny grpc-js server),
 * and nothing listening at all.
 */
import type * as grpc from "@grpc/grpc-js";
import {
  Code,
  defaultDialer,
  failOnNonTempDialError,
  healthCheck,
  healthCheckDialer,
  HealthCheckError,
  Pool,
  ServingStatus,
} from "../../src/client/mod.ts";
import { assert, assertEquals, assertRejects } from "../helpers/assert.ts";
import { startTestServer } from "../helpers/server.ts";
import { fixedHealth, startFakeServer } from "./fake_server.ts";

const HEALTH = "grpc.health.v1.Health";

Deno.test("healthCheckDialer: hands out connections to a SERVING server", async () => {
  const server = await startTestServer({ token: "h" });
  try {
    const conn = await healthCheckDialer(defaultDialer)(server.unixAddress, { token: "h" });
    assertEquals(await healthCheck(conn), ServingStatus.SERVING);
    conn.close();
    // Through a pool, as Gitaly's Go clients set it up.
    const pool = new Pool({ dialer: healthCheckDialer(defaultDialer) });
    const pooled = await pool.dial(server.unixAddress, "h");
    assertEquals(await healthCheck(pooled), ServingStatus.SERVING);
    // The check needs the token like any call.
    const denied = await assertRejects(pool.dial(server.unixAddress, "wrong"));
    assertEquals((denied as grpc.ServiceError).code, Code.PERMISSION_DENIED);
    assertEquals(pool.size, 1);
    await pool.close();
  } finally {
    await server.stop();
  }
});

Deno.test("healthCheckDialer: refuses a server that is NOT_SERVING", async () => {
  const fake = await startFakeServer({ [HEALTH]: fixedHealth(ServingStatus.NOT_SERVING) });
  try {
    const error = await assertRejects(
      healthCheckDialer(defaultDialer)(fake.address, {}),
      HealthCheckError,
    );
    assertEquals((error as HealthCheckError).status, ServingStatus.NOT_SERVING);
    assert((error as Error).message.includes("NOT_SERVING"));
  } finally {
    await fake.close();
  }
});

Deno.test("healthCheckDialer: nothing listening is Unavailable", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const address = `unix:${dir}/none.socket`;
    const lazy = await assertRejects(healthCheckDialer(defaultDialer)(address, {}));
    assertEquals((lazy as grpc.ServiceError).code, Code.UNAVAILABLE);
    // Fail-fast dialing rejects before any health check.
    const blocking = await assertRejects(
      healthCheckDialer(defaultDialer)(address, failOnNonTempDialError()),
      /ENOENT/,
    );
    assertEquals((blocking as { code: number }).code, Code.UNAVAILABLE);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
