// tests/examples/pooled.ts: a long-running program's setup, start to finish: one pool with
// health-checked connections, metadata on every call, typed unary and streaming calls.
import {
  clientNameMetadata,
  correlationIdMetadata,
  defaultDialer,
  healthCheckDialer,
  newCorrelationId,
  Pool,
  repositoryService,
} from "../../src/client/mod.ts";

const address = Deno.env.get("GITALY_ADDRESS") ?? "unix:/var/opt/gitaly/gitaly.socket";
const token = Deno.env.get("GITALY_TOKEN") ?? "";

const pool = new Pool({
  dialer: healthCheckDialer(defaultDialer),
  dialOptions: { metadata: clientNameMetadata("pooled-example") },
});
try {
  const repos = repositoryService(await pool.dial(address, token));
  const repository = {
    storage_name: "default",
    relative_path: `examples/${crypto.randomUUID()}.git`,
  };
  const call = { metadata: correlationIdMetadata(newCorrelationId()), timeoutMs: 30_000 };

  await repos.createRepository({ repository }, call);
  const { exists } = await repos.repositoryExists({ repository }, call);
  const { size } = await repos.repositorySize({ repository }, call);
  let config = "";
  for await (const chunk of repos.getConfig({ repository }, call)) {
    config += new TextDecoder().decode(chunk.data);
  }
  await repos.removeRepository({ repository }, call);

  console.log(JSON.stringify({ exists, sizeKiB: size, bare: /bare = true/.test(config) }));
} finally {
  await pool.close();
}
