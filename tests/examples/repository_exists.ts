// tests/examples/repository_exists.ts: a typed unary call.
import {
  dialContext,
  type Init,
  type Repository,
  repositoryService,
} from "../../src/client/mod.ts";

const address = Deno.env.get("GITALY_ADDRESS") ?? "unix:/var/opt/gitaly/gitaly.socket";
const repository: Init<Repository> = {
  storage_name: Deno.env.get("GITALY_STORAGE") ?? "default",
  relative_path: Deno.args[0] ?? "group/project.git",
};

const conn = await dialContext(address, { token: Deno.env.get("GITALY_TOKEN") });
try {
  const { exists } = await repositoryService(conn).repositoryExists({ repository });
  console.log(`${repository.relative_path}: ${exists ? "exists" : "does not exist"}`);
} finally {
  conn.close();
}
