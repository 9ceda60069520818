/**
 * The environment that makes git reach a repository on another Gitaly
 * server through gitaly-ssh: git talks to {@link INTERNAL_GITALY_URL}, and
 * `GIT_SSH_COMMAND` turns that into an `SSHUploadPack` call described by
 * the GITALY_* variables (address, token, request payload as JSON, feature
 * flags).
 *
 * @module
 */
import type { Metadata } from "@grpc/grpc-js";
import { formatFeatureFlagList } from "../../client/feature_flags.ts";
import { metadataValue } from "../../server/rpc.ts";
import type { GitalyServerInfo } from "./gitaly_servers.ts";
import { gitalySshCommandLine, gitalySshRuntimeEnv } from "./gitaly_ssh_command.ts";

/** The URL git is given; the host and path are ignored by gitaly-ssh. */
export const INTERNAL_GITALY_URL = "ssh://gitaly/internal.git";

/** The repository fields gitaly-ssh needs, as in `gitaly.Repository`. */
export interface RepositoryRefJson {
  storage_name?: string;
  relative_path?: string;
  git_object_directory?: string;
  git_alternate_object_directories?: string[];
  gl_repository?: string;
  gl_project_path?: string;
}

/** What one internal fetch asks of the remote upload-pack. */
export interface InternalFetchRequest {
  repository: RepositoryRefJson;
  /** `git_config_options` of the SSHUploadPack request. */
  gitConfigOptions?: string[];
  /** `version=2` for protocol v2; empty for v0. */
  gitProtocol?: string;
}

/**
 * Environment variables for a git command fetching from `server` with
 * `request`: gitaly-ssh as the SSH command, the call in GITALY_*, and the
 * caller's feature flags and correlation id passed on.
 */
export function internalFetchEnv(
  server: GitalyServerInfo,
  request: InternalFetchRequest,
  incoming?: Metadata,
): Record<string, string> {
  return {
    ...gitalySshRuntimeEnv(),
    GIT_SSH_COMMAND: gitalySshCommandLine("upload-pack"),
    // Plain argv: no `-G` probe, no OpenSSH options.
    GIT_SSH_VARIANT: "simple",
    GITALY_ADDRESS: server.address,
    GITALY_TOKEN: server.token,
    GITALY_PAYLOAD: JSON.stringify(payloadJson(request)),
    GITALY_FEATUREFLAGS: incoming ? formatFeatureFlagList(featureFlagsOf(incoming)) : "",
    CORRELATION_ID: incoming ? metadataValue(incoming, "x-gitlab-correlation-id") ?? "" : "",
  };
}

/** The SSHUploadPackRequest as protobuf JSON (lowerCamelCase names, as Gitaly writes it). */
export function payloadJson(request: InternalFetchRequest): Record<string, unknown> {
  const repo = request.repository;
  const repository: Record<string, unknown> = {};
  if (repo.storage_name) repository.storageName = repo.storage_name;
  if (repo.relative_path) repository.relativePath = repo.relative_path;
  if (repo.git_object_directory) repository.gitObjectDirectory = repo.git_object_directory;
  if (repo.git_alternate_object_directories?.length) {
    repository.gitAlternateObjectDirectories = repo.git_alternate_object_directories;
  }
  if (repo.gl_repository) repository.glRepository = repo.gl_repository;
  if (repo.gl_project_path) repository.glProjectPath = repo.gl_project_path;
  const payload: Record<string, unknown> = { repository };
  if (request.gitConfigOptions?.length) payload.gitConfigOptions = request.gitConfigOptions;
  if (request.gitProtocol) payload.gitProtocol = request.gitProtocol;
  return payload;
}

/** The `gitaly-feature-*` headers of a call, as flag name → enabled. */
export function featureFlagsOf(metadata: Metadata): Record<string, boolean> {
  const flags: Record<string, boolean> = {};
  for (const [key, value] of Object.entries(metadata.getMap())) {
    if (!key.startsWith("gitaly-feature-")) continue;
    const name = key.slice("gitaly-feature-".length).replaceAll("-", "_");
    flags[name] = String(value) === "true";
  }
  return flags;
}
