/**
 * `check`: verifies that the GitLab internal API named by the config is
 * reachable and accepts our secret (`GET /api/v4/internal/check`), and
 * prints what it reports, as `gitaly check` does. Exit status 0 when it
 * answered, 1 when it did not (the reason on stderr), 2 on usage errors.
 *
 * @module
 */
import { GitlabClient } from "../gitlab/client.ts";
import { ConfigError, loadConfigFile } from "../server/config.ts";
import { parseFlags, UsageError } from "./usage.ts";

/** Runs the check; resolves to the exit code. */
export async function checkCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(args, { config: { type: "string", short: "c" } });
  if (positionals.length > 1 || (positionals.length === 1 && values.config)) {
    throw new UsageError("check takes one config file");
  }
  const configPath = values.config ?? positionals[0];
  if (!configPath) throw new UsageError("check needs a config file (--config FILE)");
  const encoder = new TextEncoder();
  await Deno.stdout.write(encoder.encode("Checking GitLab API access: "));
  try {
    const info = await checkApi(configPath);
    console.log("OK");
    console.log(`GitLab version: ${info.version}`);
    console.log(`GitLab revision: ${info.revision}`);
    console.log(`GitLab Api version: ${info.apiVersion}`);
    console.log(`Redis reachable for GitLab: ${info.redisReachable}`);
    console.log("OK");
    return 0;
  } catch (error) {
    console.log("FAILED");
    console.error((error as Error).message);
    return 1;
  }
}

async function checkApi(configPath: string) {
  let config;
  try {
    ({ config } = await loadConfigFile(configPath));
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    throw new Error(`load config: config_path ${JSON.stringify(configPath)}: ${error.message}`);
  }
  if (!config.gitlab) throw new Error("config: gitlab.url: not set; nothing to check");
  const client = await GitlabClient.create(config.gitlab);
  try {
    return await client.check();
  } finally {
    client.close();
  }
}
