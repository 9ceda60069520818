/**
 * What an upload-pack needs so that git asks our pack-objects hook (and
 * so the pack-objects cache) instead of running pack-objects itself:
 * `uploadpack.packObjectsHook` pointing at the runtime's `pack-objects`
 * script, and a hooks payload requesting only that hook, with the user
 * from the call's `user_id`, `username` and `remote_ip` metadata, as
 * Gitaly sets them. Only while `[pack_objects_cache] enabled` is on: the
 * hook costs a process per fetch, which only the cache pays back.
 *
 * @module
 */
import type { GitConfigEntry } from "../../git/command.ts";
import type { Repository } from "../../proto/types.ts";
import { type CallContext, metadataValue } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { shellQuote } from "../remote/gitaly_ssh_command.ts";
import { encodeHooksPayload, Hook, HOOKS_PAYLOAD_ENV, serverHooksPayload } from "./payload.ts";

/** The config and environment for one upload-pack. */
export interface PackObjectsHookSetup {
  config: GitConfigEntry[];
  env: Record<string, string>;
}

/**
 * The setup for an upload-pack of `repository` in this call, or
 * `undefined` when the cache is off. `protocol` is `ssh` or `http`.
 */
export async function packObjectsHookSetup(
  deps: ServiceDeps,
  repository: Partial<Repository> | null | undefined,
  ctx: CallContext,
  protocol: "ssh" | "http",
): Promise<PackObjectsHookSetup | undefined> {
  const runtime = deps.hooks;
  if (!deps.packObjectsCache?.enabled || !runtime) return undefined;
  await runtime.prepare();
  const remoteIp = metadataValue(ctx.metadata, "remote_ip");
  const payload = encodeHooksPayload(serverHooksPayload(runtime, deps.config.auth.token, {
    requestedHooks: Hook.PackObjects,
    userDetails: {
      username: metadataValue(ctx.metadata, "username") ?? "",
      userid: metadataValue(ctx.metadata, "user_id") ?? "",
      protocol,
      ...(remoteIp ? { remoteIp } : {}),
    },
    repository: { ...repository },
  }));
  return {
    config: [{ key: "uploadpack.packObjectsHook", value: shellQuote(runtime.packObjectsHook) }],
    env: { [HOOKS_PAYLOAD_ENV]: payload },
  };
}
