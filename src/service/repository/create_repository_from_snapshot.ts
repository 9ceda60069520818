/**
 * `CreateRepositoryFromSnapshot`: a new repository from the tar archive
 * `GetSnapshot` makes, downloaded with a GET of `http_url` (with
 * `http_auth` as the `Authorization` header; redirects are not followed;
 * `resolved_address` pins the IP connected to, against DNS rebinding). The
 * archive goes to a file beside the staged repository, is checked (only
 * regular files and directories, no absolute names, no `..`) and extracted
 * over a fresh `git init --bare`; the repository moves into place only when
 * complete. Errors are worded as Gitaly's.
 *
 * @module
 */
import { isIP } from "node:net";
import { dirname, join } from "node:path";
import type { CreateRepositoryFromSnapshotRequest } from "../../proto/types.ts";
import { internal, invalidArgument, wrapError } from "../../server/errors.ts";
import { type Rpc, unary } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { goQuote } from "../shared/git_options.ts";
import { createSeededRepository } from "./create_seeded.ts";

/** How long the snapshot server may take to answer (its headers), as in Gitaly. */
const HEADER_TIMEOUT_MS = 30_000;

/** Builds the handler. */
export function createRepositoryFromSnapshot(
  deps: ServiceDeps,
): Rpc<"gitaly.RepositoryService", "CreateRepositoryFromSnapshot"> {
  return unary(async (req, ctx) => {
    await deps.locator.repoPath(req.repository, { allowMissing: true });
    try {
      await createSeededRepository(deps, req.repository!, async (target) => {
        try {
          const archive = join(dirname(target), "snapshot.tar");
          await download(req, archive, ctx.signal);
          await checkArchive(archive, ctx.signal);
          await runTar(["-C", target, "-xf", archive, "--no-same-owner"], ctx.signal);
        } catch (err) {
          ctx.signal.throwIfAborted();
          throw wrapError("extracting snapshot", err);
        }
      }, { signal: ctx.signal, ctx });
    } catch (err) {
      throw wrapError("creating repository", err);
    }
    return {};
  });
}

/** GETs the snapshot into `path`, streaming; Gitaly's errors for bad URLs and answers. */
async function download(
  req: CreateRepositoryFromSnapshotRequest,
  path: string,
  signal: AbortSignal,
): Promise<void> {
  const url = req.http_url;
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(url)?.[1]?.toLowerCase();
  if (scheme === undefined && url.startsWith(":")) {
    throw invalidArgument(`Bad HTTP URL: parse ${goQuote(url)}: missing protocol scheme`);
  }
  let parsed: URL | undefined;
  if (scheme !== undefined) {
    try {
      parsed = new URL(url);
    } catch {
      throw invalidArgument(`Bad HTTP URL: parse ${goQuote(url)}: invalid URL`);
    }
  }
  const client = req.resolved_address ? resolvedClient(parsed, req.resolved_address) : undefined;
  try {
    await fetchInto(path, url, parsed, req.http_auth, client, signal);
  } finally {
    client?.close();
  }
}

/** The GET itself, written to `path` as the body arrives. */
async function fetchInto(
  path: string,
  url: string,
  parsed: URL | undefined,
  auth: string,
  client: Deno.HttpClient | undefined,
  signal: AbortSignal,
): Promise<void> {
  const requestFailed = (why: string) =>
    internal(`HTTP request failed: Get ${goQuote(url)}: ${why}`);
  if (parsed?.protocol !== "http:" && parsed?.protocol !== "https:") {
    const scheme = parsed?.protocol.replace(/:$/, "") ?? "";
    throw requestFailed(`unsupported protocol scheme ${goQuote(scheme)}`);
  }
  const headers = new Headers();
  if (auth) headers.set("Authorization", auth);
  // As Gitaly's client: the answer's headers must come within 30 s.
  const headersDue = new AbortController();
  const timer = setTimeout(
    () => headersDue.abort(new Error("timeout awaiting response headers")),
    HEADER_TIMEOUT_MS,
  );
  let response: Response;
  try {
    response = await fetch(parsed, {
      headers,
      redirect: "manual",
      signal: AbortSignal.any([signal, headersDue.signal]),
      client,
    });
  } catch (err) {
    signal.throwIfAborted();
    throw requestFailed(((headersDue.signal.reason ?? err) as Error).message);
  } finally {
    clearTimeout(timer);
  }
  if (response.status < 200 || response.status >= 300) {
    await response.body?.cancel().catch(() => {});
    throw internal(`HTTP server: ${response.status} ${response.statusText}`.trimEnd());
  }
  const file = await Deno.open(path, { createNew: true, write: true });
  if (response.body) await response.body.pipeTo(file.writable);
  else file.close();
}

/** A client that connects to `address` whatever the URL's host resolves to. */
function resolvedClient(url: URL | undefined, address: string): Deno.HttpClient {
  const scheme = url?.protocol.replace(/:$/, "") ?? "";
  let port = url?.port ? Number(url.port) : undefined;
  if (port === undefined) {
    if (scheme === "http") port = 80;
    else if (scheme === "https") port = 443;
    else {
      throw invalidArgument(`creating resolved HTTP client: unsupported schema ${goQuote(scheme)}`);
    }
  }
  if (!isIP(address)) {
    throw invalidArgument(
      `creating resolved HTTP client: invalid resolved address ${goQuote(address)}`,
    );
  }
  return Deno.createHttpClient({ proxy: { transport: "tcp", hostname: address, port } });
}

/**
 * Refuses archives that could write outside the repository: anything but
 * regular files and directories (links, devices), absolute names, `..`.
 */
async function checkArchive(path: string, signal: AbortSignal): Promise<void> {
  const listing = await runTar(["-tvf", path, "--quoting-style=escape"], signal);
  for (const line of listing.split("\n").filter(Boolean)) {
    const type = line[0];
    const name = /^\S+\s+\S+\s+\S+\s+\S+\s+\S+\s(.*)$/.exec(line)?.[1] ?? "";
    const unsafe = name.startsWith("/") || name.split("/").includes("..");
    if ((type !== "-" && type !== "d") || unsafe || name === "") {
      throw invalidArgument(
        `snapshot holds an entry that is not allowed: ${goQuote(name || line)}`,
      );
    }
  }
}

/** Runs tar and returns its stdout; a failure is worded as Gitaly's (`exit status 2`). */
async function runTar(args: string[], signal: AbortSignal): Promise<string> {
  const out = await new Deno.Command("tar", {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal,
  }).output();
  if (!out.success) throw internal(`exit status ${out.code}`);
  return new TextDecoder().decode(out.stdout);
}
