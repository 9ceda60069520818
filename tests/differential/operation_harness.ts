/**
 * Scaffolding for OperationService differential tests: both servers
 * pointed at one GitLab internal API double, a `User` message, a fixed
 * timestamp, custom hooks on both sides, and comparisons of the resulting
 * refs and returned object ids.
 *
 * Use at the top of a test file:
 *
 * ```ts
 * import { differentialTest } from "./harness.ts";
 * import { compareOperation, configureOperationServers, gitlab, user } from "./operation_harness.ts";
 *
 * configureOperationServers();
 *
 * differentialTest("UserCreateBranch: new branch", async (h) => {
 *   const repo = await h.repo("rich");
 *   await compareOperation(h, repo, "UserCreateBranch", {
 *     repository: withGlRepository(repo), branch_name: "new", start_point: "main", user: user(),
 *   });
 * });
 * ```
 *
 * `compareOperation` compares code, message, details and responses (as
 * `h.compare` does), then the refs of both copies, and returns what it
 * compared; with `rejected: true` it also asserts that the call failed
 * and changed no ref. {@link denyAccess} makes `/allowed` refuse for the duration of
 * a callback; {@link installCustomHook} writes a custom hook on both sides.
 * Requests must name `gl_repository` (use {@link withGlRepository}) and a
 * user with a `gl_id`, or the hooks refuse as Gitaly's do.
 *
 * @module
 */
import { join } from "node:path";
import type { User } from "../../src/proto/types.ts";
import {
  type GitlabDouble,
  normalizedRequest,
  startGitlabDouble,
} from "../helpers/gitlab_double.ts";
import {
  type Compared,
  type CompareOptions,
  configureServers,
  type Harness,
  type Loose,
  type Method,
  type RepoRef,
  type RequestOf,
  SIDES,
} from "./harness.ts";
import { assertSame } from "./harness.ts";

let double: GitlabDouble | undefined;

/**
 * Call once at a test file's top level: starts the GitLab API double
 * before the servers and points both at it (ours through `[gitlab]`, the
 * reference through `REF_GITLAB_URL`); it stops after the servers.
 */
export function configureOperationServers(): void {
  configureServers(async () => {
    double = await startGitlabDouble();
    const started = double;
    return {
      ours: { extraToml: started.toml() },
      referenceEnv: { REF_GITLAB_URL: started.url, REF_GITLAB_SECRET_FILE: started.secretFile },
      cleanup: () => started.close(),
    };
  });
}

/** The running GitLab double (its `behaviour` and recorded `requests`); after the servers started. */
export function gitlab(): GitlabDouble {
  if (!double) throw new Error("configureOperationServers() was not called or servers not started");
  return double;
}

/** The `gl_repository` requests carry. */
export const GL_REPOSITORY = "project-1";

/** `repo` with `gl_repository` (and a project path), as GitLab sends it. */
export function withGlRepository(repo: RepoRef): RepoRef & {
  gl_repository: string;
  gl_project_path: string;
} {
  return { ...repo, gl_repository: GL_REPOSITORY, gl_project_path: "group/project" };
}

/**
 * A `gitaly.User`: `user-1`, Jane Doe <jane@example.com>, `jane`, time
 * zone `Europe/Berlin`; override any field.
 */
export function user(overrides: Loose<User> = {}): Loose<User> {
  return {
    gl_id: "user-1",
    name: "Jane Doe",
    email: "jane@example.com",
    gl_username: "jane",
    timezone: "Europe/Berlin",
    ...overrides,
  };
}

/** A fixed `google.protobuf.Timestamp` (2023-11-14T22:13:20Z) for requests that take one. */
export const timestamp = { seconds: 1_700_000_000, nanos: 0 };

/** Options of {@link compareOperation}. */
export interface CompareOperationOptions extends CompareOptions {
  /** The call must fail on both sides and leave the refs as they were. */
  rejected?: boolean;
}

/**
 * Calls `method` of OperationService on both sides, asserts the same
 * outcome (code, message, details or responses; see `h.compare`) and then
 * the same refs in both copies of `repo`; with `rejected`, also that the
 * call failed and the refs did not change. Returns the comparison.
 */
export async function compareOperation<M extends Method<"gitaly.OperationService">>(
  h: Harness,
  repo: RepoRef,
  method: M,
  request: RequestOf<"gitaly.OperationService", M>,
  options: CompareOperationOptions = {},
): Promise<Compared> {
  const before = options.rejected ? await h.compareRefs(repo) : undefined;
  const compared = await h.compare("gitaly.OperationService", method, request, options);
  const after = await h.compareRefs(repo);
  if (before) {
    if (compared.ours.ok) throw new Error(`${method} succeeded: ${JSON.stringify(compared.ours)}`);
    assertSame(after, before, `refs of ${repo.relative_path} after the refusal`);
  }
  return compared;
}

/**
 * For bad input Gitaly answers with a vague code (Internal) and we with a
 * precise one: calls both sides, asserts that both fail with the same
 * message and details, the reference with `referenceCode` and ours with
 * `ourCode` (code names, e.g. `InvalidArgument`), and that no ref changed.
 */
export async function compareBetterCode<M extends Method<"gitaly.OperationService">>(
  h: Harness,
  repo: RepoRef,
  method: M,
  request: RequestOf<"gitaly.OperationService", M>,
  codes: { ours: string; reference: string },
): Promise<void> {
  const before = await h.compareRefs(repo);
  const results = await h.call("gitaly.OperationService", method, request);
  const outcome = (side: "ours" | "reference") => {
    const result = results[side];
    if (result.ok) throw new Error(`${method} succeeded on ${side}`);
    return { code: result.codeName, message: result.message, details: result.details };
  };
  const ours = outcome("ours");
  const reference = outcome("reference");
  assertSame(
    { ...ours, code: ours.code === codes.ours ? "<expected>" : ours.code },
    { ...reference, code: reference.code === codes.reference ? "<expected>" : reference.code },
    `${method} (better code)`,
  );
  assertSame(await h.compareRefs(repo), before, `refs of ${repo.relative_path}`);
}

/**
 * Calls `method` on one side after the other and asserts that both made
 * the same requests to the GitLab double (`/allowed` with the quarantine
 * directories, `/pre_receive`, `/post_receive`; server paths normalized),
 * got the same answers (raw results) and left the same refs. Returns the
 * reference's requests.
 */
export async function compareGitlabRequests<M extends Method<"gitaly.OperationService">>(
  h: Harness,
  repo: RepoRef,
  method: M,
  request: RequestOf<"gitaly.OperationService", M>,
): Promise<unknown[]> {
  const api = gitlab();
  const seen = {} as Record<"ours" | "reference", { result: unknown; requests: unknown[] }>;
  for (const side of SIDES) {
    api.requests.length = 0;
    const result = await h.callSide(side, "gitaly.OperationService", method, request);
    seen[side] = { result, requests: api.requests.map((r) => normalizedRequest(r)) };
  }
  assertSame(seen.ours, seen.reference, `${method}: answers and GitLab API requests`);
  await h.compareRefs(repo);
  return seen.reference.requests;
}

/** The object id `ref` points at on each side (asserted equal); undefined when missing. */
export async function refOid(h: Harness, repo: RepoRef, ref: string): Promise<string | undefined> {
  const refs = await h.refs(repo);
  assertSame(refs.ours[ref], refs.reference[ref], `${ref} of ${repo.relative_path}`);
  return refs.ours[ref];
}

/** Runs `fn` while `/allowed` refuses with `message`. */
export async function denyAccess<T>(message: string, fn: () => Promise<T>): Promise<T> {
  const api = gitlab();
  api.behaviour.allowed = { allow: false, message };
  try {
    return await fn();
  } finally {
    api.behaviour.allowed = { allow: true };
  }
}

/**
 * Writes `body` (shell, after `#!/bin/sh`) as `repo`'s custom `hook`
 * (`pre-receive`, `update`, `post-receive`) on both sides; returns a
 * function that removes it again.
 */
export async function installCustomHook(
  h: Harness,
  repo: RepoRef,
  hook: string,
  body: string,
): Promise<() => Promise<void>> {
  const paths = SIDES.map((side) => join(h.gitDir(side, repo), "custom_hooks", hook));
  for (const path of paths) {
    await Deno.mkdir(join(path, ".."), { recursive: true });
    await Deno.writeTextFile(path, `#!/bin/sh\n${body}\n`);
    await Deno.chmod(path, 0o755);
  }
  return async () => {
    for (const path of paths) await Deno.remove(path).catch(() => {});
  };
}
