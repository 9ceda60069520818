/**
 * An in-process harness for handler tests: the real handlers, a real git,
 * the real locator and cat-file cache, temporary storages, and no server.
 * Requests and responses go through the same protobuf encoding as on the
 * wire, so a handler that fills a field wrongly fails here too; errors are
 * mapped at the same boundary as in the server.
 *
 * ```ts
 * const h = await handlerHarness();
 * const repo = await h.createRepo("a.git", async (git) => { ... });
 * const { responses } = await h.call("gitaly.RefService", "FindAllBranches", { repository: repo });
 * await h.close();
 * ```
 *
 * @module
 */
import { join } from "node:path";
import { Metadata } from "@grpc/grpc-js";
import { CatfileCache } from "../../src/git/catfile.ts";
import { GitRunner } from "../../src/git/command.ts";
import { EncodedResponses } from "../../src/proto/encoded.ts";
import { messageType, serviceInfo } from "../../src/proto/mod.ts";
import type { Repository, ServiceMethods } from "../../src/proto/types.ts";
import { type Config, parseConfig } from "../../src/server/config.ts";
import { codeName, type ErrorDetail, toGrpcError } from "../../src/server/errors.ts";
import { Locator } from "../../src/server/locator.ts";
import { Logger } from "../../src/server/logger.ts";
import type { CallContext, Handler } from "../../src/server/rpc.ts";
import type { ServiceDeps } from "../../src/service/deps.ts";
import { gitalyImplementations } from "../../src/service/registry.ts";

/** Author and committer identity and dates for deterministic test commits. */
export const FIXED_IDENTITY: Record<string, string> = {
  GIT_AUTHOR_NAME: "Test Author",
  GIT_AUTHOR_EMAIL: "author@example.com",
  GIT_AUTHOR_DATE: "1700000000 +0000",
  GIT_COMMITTER_NAME: "Test Committer",
  GIT_COMMITTER_EMAIL: "committer@example.com",
  GIT_COMMITTER_DATE: "1700000000 +0000",
};

/** What a call answered: the messages (as plain objects) or the mapped error. */
export type CallResult =
  | { ok: true; responses: Record<string, unknown>[] }
  | { ok: false; code: number; codeName: string; message: string; details: ErrorDetail[] };

/** Options of {@link handlerHarness}. */
export interface HandlerHarnessOptions {
  /** Storage names (default `["default"]`). */
  storages?: string[];
  /** Extra TOML for the config (e.g. `[git]` settings). */
  extraToml?: string;
  /**
   * Bytes in responses: `"base64"` (default) or `"text"` (valid UTF-8 as a
   * string, anything else as a Uint8Array).
   */
  bytes?: "base64" | "text";
}

/** The harness; see the module documentation. */
export interface HandlerHarness {
  /** The dependency bag the handlers got. */
  deps: ServiceDeps;
  config: Config;
  /** Absolute path of storage `name` (default `default`). */
  storagePath(name?: string): string;
  /** Absolute path of a repository. */
  repoPath(repo: Repository | { relative_path: string; storage_name?: string }): string;
  /**
   * Creates a bare repository at `relativePath` in storage `default` and
   * runs `build(git)` in it, where `git(...args)` runs /usr/bin/git with the
   * fixed identity and returns trimmed stdout.
   */
  createRepo(
    relativePath: string,
    build?: (git: (...args: string[]) => Promise<string>, path: string) => Promise<void>,
  ): Promise<Repository>;
  /** Calls `method` of `service` with one request (unary, server-streaming) or many (client-streaming, bidi). */
  call<S extends keyof ServiceMethods>(
    service: S,
    method: keyof ServiceMethods[S] & string,
    request: Record<string, unknown> | Record<string, unknown>[],
    options?: { signal?: AbortSignal; metadata?: Record<string, string> },
  ): Promise<CallResult>;
  /** Kills cached cat-file processes and removes the storages. */
  close(): Promise<void>;
}

/** Builds a harness with fresh temporary storages. */
export async function handlerHarness(options: HandlerHarnessOptions = {}): Promise<HandlerHarness> {
  const dir = await Deno.makeTempDir({ prefix: "gitaly-handler-" });
  const storages = options.storages ?? ["default"];
  const storageToml = storages.map((name) =>
    `[[storage]]\nname = "${name}"\npath = "${join(dir, name)}"\n`
  ).join("\n");
  for (const name of storages) await Deno.mkdir(join(dir, name), { recursive: true });
  const socket = `socket_path = "${join(dir, "unused.socket")}"\n`;
  const { config } = parseConfig(`${socket}${storageToml}\n${options.extraToml ?? ""}`, dir);
  const logger = new Logger("json", "error");
  const git = new GitRunner({ binPath: config.git.binPath, config: config.git.config });
  const catfile = new CatfileCache(git, { maxProcesses: config.git.catfileCacheSize });
  const locator = new Locator(config.storages);
  const deps: ServiceDeps = { config, locator, git, catfile, logger };
  const impls = gitalyImplementations(deps);

  const storagePath = (name = "default") => join(dir, name);
  const harness: HandlerHarness = {
    deps,
    config,
    storagePath,
    repoPath: (repo) => join(storagePath(repo.storage_name || "default"), repo.relative_path),
    async createRepo(relativePath, build) {
      const path = join(storagePath(), relativePath);
      await runGit(["init", "--bare", "--quiet", "--initial-branch=main", path]);
      if (build) await build((...args) => runGit(args, path), path);
      return repository(relativePath);
    },
    async call(service, method, request, callOptions = {}) {
      const info = serviceInfo(service).methods.find((m) => m.name === method);
      if (!info) throw new Error(`${service} has no method ${method}`);
      const handler = impls.get(service)?.handlers[method] as Handler | undefined;
      const requests = (Array.isArray(request) ? request : [request]).map((r) =>
        info.requestType.decode(info.requestType.encode(info.requestType.fromObject(r)).finish())
      );
      const responses: Record<string, unknown>[] = [];
      const type = info.responseType;
      const push = (wire: Uint8Array) =>
        responses.push(
          options.bytes === "text"
            ? readableBytes(type.toObject(type.decode(wire), { defaults: false }))
            : type.toObject(type.decode(wire), { defaults: false, bytes: String }),
        );
      const send = (response: unknown) => {
        if (response instanceof EncodedResponses) {
          response.messages().forEach(push);
        } else {
          push(type.encode(type.fromObject(response as Record<string, unknown>)).finish());
        }
        return Promise.resolve();
      };
      const controller = new AbortController();
      callOptions.signal?.addEventListener(
        "abort",
        () => controller.abort(callOptions.signal!.reason),
      );
      const metadata = new Metadata();
      for (const [k, v] of Object.entries(callOptions.metadata ?? {})) metadata.set(k, v);
      const ctx: CallContext = {
        path: info.path,
        metadata,
        signal: controller.signal,
        peer: "harness",
        logFields: {},
      };
      try {
        if (!handler) throw new Error(`${service}/${method} has no handler`);
        const iterate = async function* () {
          yield* requests;
        };
        switch (handler.kind) {
          case "unary":
            await send(await handler.fn(requests[0], ctx));
            break;
          case "client_stream":
            await send(await handler.fn(iterate(), ctx));
            break;
          case "server_stream":
            await handler.fn(requests[0], ctx, send);
            break;
          case "bidi_stream":
            await handler.fn(iterate(), ctx, send);
            break;
        }
        return { ok: true, responses };
      } catch (error) {
        const status = toGrpcError(error, controller.signal)!;
        return {
          ok: false,
          code: status.code,
          codeName: codeName(status.code),
          message: status.message,
          details: status.details,
        };
      }
    },
    async close() {
      await catfile.close();
      await git.killAll();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
  return harness;
}

/**
 * Replaces every bytes value by its text when it is valid UTF-8 (so tests
 * can compare paths and names as strings); other bytes stay Uint8Array.
 */
export function readableBytes<T>(value: T): T {
  if (value instanceof Uint8Array) {
    try {
      return new TextDecoder("utf-8", { fatal: true }).decode(value) as T;
    } catch {
      return new Uint8Array(value) as T;
    }
  }
  if (Array.isArray(value)) return value.map(readableBytes) as T;
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, readableBytes(v)]),
    ) as T;
  }
  return value;
}

/** A repository message for storage `default`. */
export function repository(relativePath: string, storage = "default"): Repository {
  return {
    storage_name: storage,
    relative_path: relativePath,
    git_object_directory: "",
    git_alternate_object_directories: [],
    gl_repository: "",
    gl_project_path: "",
  };
}

/** Runs /usr/bin/git with the fixed identity in `cwd`; returns trimmed stdout; throws on failure. */
export async function runGit(args: string[], cwd?: string, stdin?: string): Promise<string> {
  const child = new Deno.Command("git", {
    args,
    cwd,
    env: { ...FIXED_IDENTITY, GIT_CONFIG_NOSYSTEM: "1", HOME: "/nonexistent" },
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(stdin));
    await writer.close();
  }
  const out = await child.output();
  if (!out.success) {
    throw new Error(`git ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  }
  return new TextDecoder().decode(out.stdout).trim();
}

/** The decoded message type, for tests that build expected values. */
export { messageType };
