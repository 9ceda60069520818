// tests/examples/health_check_dialer.ts: only hand out connections to a healthy server.
import {
  defaultDialer,
  describeError,
  failOnNonTempDialError,
  healthCheckDialer,
  Pool,
} from "../../src/client/mod.ts";

const address = Deno.env.get("GITALY_ADDRESS") ?? "unix:/var/opt/gitaly/gitaly.socket";
const pool = new Pool({
  // Dial, then Health/Check: anything but SERVING closes the connection and fails the dial.
  dialer: healthCheckDialer(defaultDialer),
  dialOptions: failOnNonTempDialError(),
});
try {
  await pool.dial(address, Deno.env.get("GITALY_TOKEN") ?? "", {
    deadline: Date.now() + 10_000,
  });
  console.log("server is healthy");
} catch (error) {
  console.error(`server is not usable: ${describeError(error)}`);
  Deno.exitCode = 1;
} finally {
  await pool.close();
}
