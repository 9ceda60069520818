// tests/examples/token_auth.ts: token v2 authentication with the shared secret.
import {
  Code,
  dial,
  isCallError,
  repositoryService,
  statusCodeName,
} from "../../src/client/mod.ts";

const address = Deno.env.get("GITALY_ADDRESS") ?? "unix:/var/opt/gitaly/gitaly.socket";
const secret = Deno.env.get("GITALY_TOKEN") ?? "";
const repository = { storage_name: "default", relative_path: "group/project.git" };

// Every call carries `authorization: Bearer v2.<hmac>.<timestamp>`, signed afresh.
const conn = dial(address, { token: secret });
const impostor = dial(address, { token: "not the secret" });
try {
  const { exists } = await repositoryService(conn).repositoryExists({ repository });
  console.log(`authenticated (exists: ${exists})`);
  await repositoryService(impostor).repositoryExists({ repository });
} catch (error) {
  if (!isCallError(error) || error.code !== Code.PERMISSION_DENIED) throw error;
  console.log(`wrong secret: ${statusCodeName(error.code)}`);
} finally {
  conn.close();
  impostor.close();
}
