/**
 * `CreateRepositoryFromURL`: a new repository cloned (`--bare`, or
 * `--mirror`) from any URL git understands: `http(s)://`, `git://`, `ssh://`
 * or a local path. Credentials in the URL become an `Authorization: Basic`
 * header and never reach the command line; `resolved_address` pins the
 * host's IP (`http.curloptResolve`). Built in the temp dir, moved into place
 * when complete, without an `origin` remote.
 *
 * @module
 */
import type { CreateRepositoryFromURLRequest } from "../../proto/types.ts";
import type { GitConfigEntry } from "../../git/command.ts";
import { internal, invalidArgument } from "../../server/errors.ts";
import { type Rpc, unary } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { createSeededRepository } from "./create_seeded.ts";
import { wrapError } from "../../server/errors.ts";
import { cloneFrom, removeOrigin } from "./git_transfer.ts";
import { basicAuthorization, resolveConfig } from "./remote_url.ts";

/** Builds the handler. */
export function createRepositoryFromURL(
  deps: ServiceDeps,
): Rpc<"gitaly.RepositoryService", "CreateRepositoryFromURL"> {
  return unary(
    async (req, ctx) => {
      await deps.locator.repoPath(req.repository, { allowMissing: true });
      if (!req.url) throw invalidArgument("empty Url");
      const { url, secrets } = cloneSettings(req);
      try {
        await createSeededRepository(deps, req.repository!, async (target) => {
          try {
            await cloneFrom(deps, { url, env: {}, config: [] }, target, {
              mirror: req.mirror,
              secretConfig: secrets,
              signal: ctx.signal,
            });
          } catch (err) {
            ctx.signal.throwIfAborted();
            throw internal(`cloning repository: ${(err as Error).message}`, {
              resolved_address: req.resolved_address,
            });
          }
          await removeOrigin(deps, target, ctx.signal);
        }, { skipInit: true, signal: ctx.signal, ctx });
      } catch (err) {
        throw wrapError("creating repository", err);
      }
      return {};
    },
  );
}

/** The URL to clone (credentials removed) and the settings that carry credentials and pinning. */
function cloneSettings(
  req: CreateRepositoryFromURLRequest,
): { url: string; secrets: GitConfigEntry[] } {
  const secrets: GitConfigEntry[] = [];
  let url = req.url;
  const parsed = parseUrl(url);
  if (parsed && (parsed.username || parsed.password)) {
    const user = decodeURIComponent(parsed.username);
    const password = parsed.password ? decodeURIComponent(parsed.password) : undefined;
    secrets.push({
      key: "http.extraHeader",
      value: `Authorization: ${basicAuthorization(user, password)}`,
    });
    parsed.username = "";
    parsed.password = "";
    url = parsed.toString();
  } else if (req.http_authorization_header) {
    secrets.push({
      key: "http.extraHeader",
      value: `Authorization: ${req.http_authorization_header}`,
    });
  }
  if (req.resolved_address) {
    const resolved = resolveConfig(url, req.resolved_address);
    url = resolved.url;
    secrets.push(...resolved.config);
  }
  return { url, secrets };
}

function parseUrl(url: string): URL | undefined {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) return undefined;
  try {
    return new URL(url);
  } catch {
    throw internal(`parse ${JSON.stringify(url)}: invalid URL`);
  }
}
