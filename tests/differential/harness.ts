/**
 * Differential tests: the same request to our server and to the real
 * Gitaly 16.7 (`../shared/reference/refgitaly`, beside the repository),
 * each on its own copy of the same fixture repository, and the answers
 * compared: code, message, error details and responses (chunks joined).
 *
 * ```ts
 * import { differentialTest } from "./harness.ts";
 *
 * differentialTest("FindAllTags", async (h) => {
 *   const repository = await h.repo("rich", { shared: true });
 *   await h.compare("gitaly.RefService", "FindAllTags", { repository }, { join: "tags" });
 * });
 * ```
 *
 * Both servers start once per test file, at its first differential test,
 * and stop after its last one (or, should that never run, when the test
 * file's isolate unloads). Without the reference every differential test is
 * ignored and one message says why. Each test file gets its own temp dir,
 * so test files may run in parallel.
 *
 * Requests are plain objects with proto field names; a `bytes` field may be
 * given as a string (UTF-8). Responses come back as plain JSON-able values:
 * a `bytes` field becomes a string when it is valid UTF-8, else
 * `{ $bytes: "caf\\xe9" }` (non-printable bytes as `\xNN`); more than
 * {@link LARGE_BYTES} bytes become `{ $bytes: <first 64 escaped>, size, sha256 }`.
 * Enums are names, 64-bit integers numbers, unset fields their defaults.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import type * as grpc from "@grpc/grpc-js";
import { dial, statusCodeName } from "../../src/client/mod.ts";
import { methodCodec } from "../../src/client/services.ts";
import {
  bidiStreamCall,
  clientStreamCall,
  serverStreamCall,
  unaryCall,
} from "../../src/client/stream_calls.ts";
import { type MethodInfo, protobuf, root, serviceInfo } from "../../src/proto/mod.ts";
import type { Init, ServiceMethods } from "../../src/proto/types.ts";
import { startTestServer, type TestServer, type TestServerOptions } from "../helpers/server.ts";
import { type FixtureName, FIXTURES } from "./fixtures.ts";

/**
 * Path of the reference Gitaly's control script: `$GITALY_REFERENCE` when
 * set, else `../shared/reference/refgitaly` beside the repository (for a
 * linked git worktree, also beside its main worktree).
 */
export const REFGITALY_PATH: string = findReference();

/** Whether the reference is there; without it differential tests are ignored. */
export const referenceAvailable: boolean = isFile(REFGITALY_PATH);

function findReference(): string {
  const explicit = Deno.env.get("GITALY_REFERENCE");
  if (explicit) return explicit;
  const repoRoot = new URL("../../", import.meta.url).pathname;
  const beside = join(repoRoot, "../shared/reference/refgitaly");
  if (isFile(beside)) return beside;
  // A linked worktree's .git is a file: "gitdir: <main>/.git/worktrees/<name>".
  try {
    const gitdir = /^gitdir: (.*)$/m.exec(Deno.readTextFileSync(join(repoRoot, ".git")))?.[1];
    const main = gitdir?.match(/^(.*)\/\.git\/worktrees\/[^/]+$/)?.[1];
    if (main) return join(main, "../shared/reference/refgitaly");
  } catch {
    // not a linked worktree
  }
  return beside;
}

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/** The two servers under comparison. */
export type Side = "ours" | "reference";
/** Both sides, ours first. */
export const SIDES: readonly Side[] = ["ours", "reference"];

/** A repository as a request names it; the same on both sides. */
export interface RepoRef {
  storage_name: string;
  relative_path: string;
}

/** Options of {@link Harness.repo}. */
export interface RepoOptions {
  /**
   * Reuse one copy per fixture for the whole test file (fast; for RPCs that
   * change nothing). Default: a fresh copy for this call.
   */
  shared?: boolean;
}

/** A decoded entry of `grpc-status-details-bin`'s `details` (a google.protobuf.Any). */
export interface Detail {
  type_url: string;
  /** The decoded message (normalized like responses); raw bytes for unknown types. */
  message: unknown;
}

/** The outcome of one call on one side. */
export type CallResult =
  | { ok: true; responses: unknown[] }
  | {
    ok: false;
    /** gRPC status code. */
    code: number;
    /** Its name, e.g. `NotFound`. */
    codeName: string;
    /** The status message; the side's storage path reads `<storage>`, its own dir `<dir>`. */
    message: string;
    /** `grpc-status-details-bin` decoded; empty when not sent. */
    details: Detail[];
  };

/** How {@link Harness.compare} joins a streamed answer before comparing. */
export type Join =
  /**
   * One object: repeated fields concatenated across messages, `bytes` fields
   * concatenated (chunked `data`), other fields the first non-default
   * value; a field with several different non-default values becomes
   * `{ $perMessage: [...] }`. The default for server-streaming RPCs.
   */
  | "auto"
  /** The list of response messages as they came (chunking must then match). */
  | "none"
  /** The named repeated (or bytes) field concatenated across messages. */
  | string
  /** Custom, e.g. {@link joinRecords}: gets the responses (bytes as Uint8Array), returns the value compared. */
  | ((responses: Record<string, unknown>[]) => unknown);

/** Options of {@link Harness.compare}. */
export interface CompareOptions {
  /** How to join streamed responses (default `"auto"`; unary RPCs compare their one response). */
  join?: Join;
  /** Applied to each side's joined responses before comparing. */
  normalize?: (value: unknown, side: Side) => unknown;
  /**
   * Error messages: `"exact"` (default, after `<storage>`/`<dir>` replacement),
   * `"ignore"`, or a function mapping each side's message before comparing.
   */
  message?: "exact" | "ignore" | ((message: string, side: Side) => string);
  /** Compare error details (default true). */
  details?: boolean;
  /** Field names dropped at any depth of responses and details before comparing. */
  ignoreFields?: string[];
  /**
   * Sort arrays whose order Gitaly leaves unspecified: `true` sorts the
   * joined value if it is an array, else each of its top-level array
   * fields; a list names the fields to sort. Elements sort by their JSON.
   */
  sort?: boolean | string[];
  /** Call headers (e.g. feature flags), sent to both servers. */
  metadata?: Record<string, string>;
}

/**
 * What {@link Harness.compare} compared, per side: `{ ok: true, responses }`
 * (joined, normalized) or `{ ok: false, code (its name), message, details }`.
 */
export interface Compared {
  ours: Outcome;
  reference: Outcome;
  /** The raw results of both calls. */
  results: Record<Side, CallResult>;
}

/** One side's answer as {@link Harness.compare} compares it. */
export type Outcome =
  | { ok: true; responses: unknown }
  | { ok: false; code: string; message: string; details: unknown };

/** A request that may be given as a string where the proto says `bytes`. */
export type Loose<T> = { [K in keyof T]?: LooseValue<T[K]> };
type LooseValue<V> = V extends Uint8Array ? Uint8Array | string
  : V extends readonly (infer E)[] ? LooseValue<E>[]
  : V extends object ? Loose<V> | null
  : V;

/** Fully qualified service names (`gitaly.RefService`, …). */
export type Service = keyof ServiceMethods;
/** Method names of service `S`. */
export type Method<S extends Service> = keyof ServiceMethods[S] & string;
type Shape<S extends Service, M extends Method<S>> = ServiceMethods[S][M] extends {
  request: infer Req;
  requestStream: infer ClientStreams;
} ? ClientStreams extends true ? Loose<Req>[] : Loose<Req>
  : never;
/**
 * The request of `S/M`: one message, or an array of them for client-streaming
 * and bidi RPCs (all written, then half-closed); or a function of the side.
 */
export type RequestOf<S extends Service, M extends Method<S>> =
  | Shape<S, M>
  | ((side: Side) => Shape<S, M>);

/** The harness of one test file: both servers, fixtures, calls and comparisons. */
export interface Harness {
  /** Root of this test file's temp dir (fixture cache, reference dir). */
  readonly dir: string;
  /** Each side's storage path (storage `default`). */
  readonly storagePaths: Readonly<Record<Side, string>>;
  /** Each side's address (`unix:/…`). */
  readonly addresses: Readonly<Record<Side, string>>;
  /** Our server (its log: `ours.stderr()`). */
  readonly ours: TestServer;
  /**
   * A copy of `fixture` in both storages under the same relative path;
   * built once per test file. Fresh per call unless `shared`.
   */
  repo(fixture: FixtureName, options?: RepoOptions): Promise<RepoRef>;
  /** The copy's git dir on `side`. */
  gitDir(side: Side, repo: RepoRef): string;
  /** Runs the system git in `side`'s copy; returns stdout; throws on failure. */
  git(side: Side, repo: RepoRef, args: string[]): Promise<string>;
  /**
   * Each side's refs (`git for-each-ref`: refname → object id), plus `HEAD`
   * → its symbolic target (also when unborn), or its object id when detached.
   */
  refs(repo: RepoRef): Promise<Record<Side, Record<string, string>>>;
  /** Asserts that both copies have the same refs and HEAD; returns them. */
  compareRefs(repo: RepoRef): Promise<Record<string, string>>;
  /** Makes the same call on both sides (concurrently). */
  call<S extends Service, M extends Method<S>>(
    service: S,
    method: M,
    request: RequestOf<S, M>,
    options?: { metadata?: Record<string, string> },
  ): Promise<Record<Side, CallResult>>;
  /** Makes a call on one side. */
  callSide<S extends Service, M extends Method<S>>(
    side: Side,
    service: S,
    method: M,
    request: RequestOf<S, M>,
    options?: { metadata?: Record<string, string> },
  ): Promise<CallResult>;
  /**
   * Opens a streaming call on `side` and writes `request` without
   * half-closing: the call stays in flight (e.g. holding a concurrency
   * slot) until `cancel()`. `settled` resolves with its outcome.
   */
  hold<S extends Service, M extends Method<S>>(
    side: Side,
    service: S,
    method: M,
    request: Loose<ServiceMethods[S][M] extends { request: infer Req } ? Req : never>,
  ): { cancel(): void; settled: Promise<CallResult> };
  /**
   * Calls both sides and asserts the same outcome: code, message and
   * details of an error, or the responses joined (see {@link CompareOptions}).
   * Throws with the first differing path and both sides on a mismatch.
   */
  compare<S extends Service, M extends Method<S>>(
    service: S,
    method: M,
    request: RequestOf<S, M>,
    options?: CompareOptions,
  ): Promise<Compared>;
}

/** Options of {@link differentialTest} (as `Deno.test`'s). */
export interface DifferentialTestOptions {
  ignore?: boolean;
  only?: boolean;
}

/** How a test file wants both servers started (see {@link configureServers}). */
export interface ServerSetup {
  /** Options for our server (e.g. `extraToml`). */
  ours?: TestServerOptions;
  /** `REF_*` settings for `refgitaly start`, e.g. `REF_GITLAB_URL`. */
  referenceEnv?: Record<string, string>;
  /** Runs after both servers stopped. */
  cleanup?: () => Promise<void>;
}

let serverSetup: (() => Promise<ServerSetup>) | undefined;

/**
 * Call at a test file's top level to start both servers differently:
 * `setup` runs once, right before they start (e.g. to start a fake
 * GitLab API both point at), and says how.
 */
export function configureServers(setup: () => Promise<ServerSetup>): void {
  serverSetup = setup;
}

let extraToml = "";

/**
 * TOML appended to both servers' configurations (e.g. `[[concurrency]]`
 * limits); call it at the top of a test file, before its tests run.
 */
export function appendServerConfig(toml: string): void {
  extraToml += `\n${toml}\n`;
}

const MISSING_MESSAGE = `differential tests skipped: no reference Gitaly at ${REFGITALY_PATH}`;
let warned = false;
let registered = 0;
let finished = 0;
let running: Promise<HarnessImpl> | undefined;
let sideToml: ((side: Side, dir: string) => string) | undefined;

/**
 * Extra configuration for this test file's servers (call at the top of the
 * file, before its tests run): TOML appended to each side's config, given
 * the side and the test file's temp dir. The reference is restarted on its
 * amended config.
 */
export function configureServerToml(toml: (side: Side, dir: string) => string): void {
  sideToml = toml;
}

/**
 * Registers a `Deno.test` that gets the test file's {@link Harness}; ignored
 * (with one message per test file) when the reference is missing. Servers
 * start with the first such test and stop after the last.
 */
export function differentialTest(
  name: string,
  fn: (h: Harness, t: Deno.TestContext) => Promise<void>,
  options: DifferentialTestOptions = {},
): void {
  if (!referenceAvailable && !warned) {
    warned = true;
    console.warn(MISSING_MESSAGE);
  }
  const ignore = !referenceAvailable || !!options.ignore;
  if (!ignore) registered++;
  Deno.test({
    name,
    ignore,
    only: options.only,
    // The servers outlive single tests; they are stopped after the last one.
    sanitizeOps: false,
    sanitizeResources: false,
    async fn(t) {
      try {
        running ??= HarnessImpl.start();
        await fn(await running, t);
      } finally {
        if (++finished === registered) await shutdown();
      }
    },
  });
}

async function shutdown(): Promise<void> {
  const pending = running;
  running = undefined;
  if (!pending) return;
  const harness = await pending.catch(() => undefined);
  await harness?.stop();
}

/** Bytes longer than this are compared by size and sha256 (and shown by a prefix). */
export const LARGE_BYTES = 16 * 1024;

const encoder = new TextEncoder();
const utf8 = new TextDecoder("utf-8", { fatal: true });

class HarnessImpl implements Harness {
  readonly storagePaths: Record<Side, string>;
  readonly addresses: Record<Side, string>;
  #conns: Record<Side, grpc.Client>;
  #fixtures = new Map<FixtureName, Promise<string>>();
  #shared = new Map<FixtureName, Promise<RepoRef>>();
  #copies = 0;
  #stopped = false;
  #onUnload = () => this.#stopNow();

  private constructor(
    readonly dir: string,
    readonly ours: TestServer,
    readonly refDir: string,
    readonly setup: ServerSetup,
  ) {
    this.storagePaths = {
      ours: ours.storagePaths.default,
      reference: join(refDir, "repositories"),
    };
    this.addresses = { ours: ours.unixAddress, reference: `unix:${join(refDir, "gitaly.socket")}` };
    this.#conns = { ours: dial(this.addresses.ours), reference: dial(this.addresses.reference) };
    globalThis.addEventListener("unload", this.#onUnload);
  }

  /** Starts both servers (concurrently); stops whichever started if the other fails. */
  static async start(): Promise<HarnessImpl> {
    // Short: the reference's sockets live below it (at most 70 characters).
    const dir = await Deno.makeTempDir({ dir: "/tmp", prefix: "dgd-" });
    const refDir = join(dir, "ref");
    const setup = serverSetup ? await serverSetup() : {};
    const [ours, reference] = await Promise.allSettled([
      startTestServer({
        ...setup.ours,
        extraToml: (setup.ours?.extraToml ?? "") + extraToml + (sideToml?.("ours", dir) ?? ""),
      }),
      refgitaly("start", refDir, setup.referenceEnv).then(async () => {
        const toml = extraToml + (sideToml?.("reference", dir) ?? "");
        if (toml.trim()) await restartReference(refDir, toml);
      }),
    ]);
    if (ours.status === "fulfilled" && reference.status === "fulfilled") {
      return new HarnessImpl(dir, ours.value, refDir, setup);
    }
    if (ours.status === "fulfilled") await ours.value.stop().catch(() => {});
    if (reference.status === "fulfilled") await refgitaly("stop", refDir).catch(() => {});
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    await setup.cleanup?.().catch(() => {});
    throw ours.status === "rejected" ? ours.reason : (reference as PromiseRejectedResult).reason;
  }

  /** Stops both servers and removes the temp dir; throws if our server did not exit cleanly. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    globalThis.removeEventListener("unload", this.#onUnload);
    for (const conn of Object.values(this.#conns)) conn.close();
    const [ours, reference] = await Promise.allSettled([
      this.ours.stop(),
      refgitaly("stop", this.refDir),
    ]);
    await Deno.remove(this.dir, { recursive: true }).catch(() => {});
    await this.setup.cleanup?.();
    if (ours.status === "rejected") throw ours.reason;
    if (reference.status === "rejected") throw reference.reason;
  }

  /** The last resort when the isolate unloads with the servers still up: synchronous. */
  #stopNow(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    try {
      this.ours.process.kill("SIGTERM");
    } catch { /* already gone */ }
    new Deno.Command(REFGITALY_PATH, {
      args: ["stop", this.refDir],
      stdout: "null",
      stderr: "null",
    })
      .outputSync();
    // Give our server up to 10 s to finish before its dir goes.
    for (let i = 0; i < 100 && isAlive(this.ours.process.pid); i++) {
      new Deno.Command("sleep", { args: ["0.1"] }).outputSync();
    }
    for (const dir of [this.dir, this.ours.dir]) {
      try {
        Deno.removeSync(dir, { recursive: true });
      } catch { /* best effort */ }
    }
  }

  #fixture(name: FixtureName): Promise<string> {
    let pending = this.#fixtures.get(name);
    if (!pending) {
      pending = (async () => {
        const path = join(this.dir, "fixtures", `${name}.git`);
        const scratch = join(this.dir, "fixtures", `${name}.scratch`);
        await Deno.mkdir(scratch, { recursive: true });
        await FIXTURES[name](path, scratch);
        await Deno.remove(scratch, { recursive: true });
        return path;
      })();
      this.#fixtures.set(name, pending);
    }
    return pending;
  }

  repo(fixture: FixtureName, options: RepoOptions = {}): Promise<RepoRef> {
    if (!options.shared) return this.#copy(fixture, `${fixture}-${++this.#copies}`);
    let pending = this.#shared.get(fixture);
    if (!pending) {
      pending = this.#copy(fixture, `${fixture}-shared`);
      this.#shared.set(fixture, pending);
    }
    return pending;
  }

  async #copy(fixture: FixtureName, name: string): Promise<RepoRef> {
    const source = await this.#fixture(fixture);
    const repo = { storage_name: "default", relative_path: `differential/${name}.git` };
    await Promise.all(SIDES.map(async (side) => {
      const target = this.gitDir(side, repo);
      await Deno.mkdir(join(target, ".."), { recursive: true });
      await command("cp", ["-a", source, target]);
    }));
    return repo;
  }

  gitDir(side: Side, repo: RepoRef): string {
    return join(this.storagePaths[side], repo.relative_path);
  }

  async git(side: Side, repo: RepoRef, args: string[]): Promise<string> {
    return await command("/usr/bin/git", ["--git-dir", this.gitDir(side, repo), ...args]);
  }

  async refs(repo: RepoRef): Promise<Record<Side, Record<string, string>>> {
    const list = async (side: Side) => {
      const out = await this.git(side, repo, ["for-each-ref", "--format=%(objectname) %(refname)"]);
      const refs: Record<string, string> = {};
      for (const line of out.split("\n").filter(Boolean)) {
        const at = line.indexOf(" ");
        refs[line.slice(at + 1)] = line.slice(0, at);
      }
      refs.HEAD = await this.git(side, repo, ["symbolic-ref", "-q", "HEAD"])
        .catch(() => this.git(side, repo, ["rev-parse", "HEAD"]));
      return refs;
    };
    const [ours, reference] = await Promise.all(SIDES.map(list));
    return { ours, reference };
  }

  async compareRefs(repo: RepoRef): Promise<Record<string, string>> {
    const { ours, reference } = await this.refs(repo);
    assertSame(ours, reference, `refs of ${repo.relative_path}`);
    return ours;
  }

  async call<S extends Service, M extends Method<S>>(
    service: S,
    method: M,
    request: RequestOf<S, M>,
    options: { metadata?: Record<string, string> } = {},
  ): Promise<Record<Side, CallResult>> {
    const [ours, reference] = await Promise.all(
      SIDES.map((side) => this.callSide(side, service, method, request, options)),
    );
    return { ours, reference };
  }

  async callSide<S extends Service, M extends Method<S>>(
    side: Side,
    service: S,
    method: M,
    request: RequestOf<S, M>,
    options: { metadata?: Record<string, string> } = {},
  ): Promise<CallResult> {
    const raw = await this.#rawCall(side, service, method, request, options.metadata);
    return raw.ok ? { ok: true, responses: raw.responses.map((r) => this.#json(side, r)) } : raw;
  }

  hold<S extends Service, M extends Method<S>>(
    side: Side,
    service: S,
    method: M,
    request: Loose<ServiceMethods[S][M] extends { request: infer Req } ? Req : never>,
  ): { cancel(): void; settled: Promise<CallResult> } {
    const info = methodInfo(service, method);
    if (!info.requestStream) throw new Error(`hold: ${service}/${method} is not client-streaming`);
    const controller = new AbortController();
    const codec = methodCodec(info);
    const options = { signal: controller.signal, timeoutMs: 120_000 };
    const first = bytesFromStrings(info.requestType, request) as Init<unknown>;
    const settled = (async (): Promise<CallResult> => {
      const responses: unknown[] = [];
      try {
        if (info.responseStream) {
          const call = bidiStreamCall(this.#conns[side], codec, options);
          call.write(first);
          for await (const response of call) responses.push(response);
        } else {
          const call = clientStreamCall(this.#conns[side], codec, options);
          call.write(first);
          responses.push(await call.response);
        }
        return { ok: true, responses: responses.map((r) => this.#json(side, r)) };
      } catch (error) {
        if (!isServiceError(error)) throw error;
        return this.#failure(side, error);
      }
    })();
    return { cancel: () => controller.abort(), settled };
  }

  async compare<S extends Service, M extends Method<S>>(
    service: S,
    method: M,
    request: RequestOf<S, M>,
    options: CompareOptions = {},
  ): Promise<Compared> {
    const info = methodInfo(service, method);
    const raw = await Promise.all(
      SIDES.map((side) => this.#rawCall(side, service, method, request, options.metadata)),
    );
    const outcome = (side: Side, result: RawResult): Outcome => {
      if (!result.ok) return this.#errorOutcome(side, result, options);
      const joined = info.responseStream
        ? joinResponses(result.responses, options.join ?? "auto")
        : result.responses[0];
      let value = sortArrays(
        dropFields(this.#json(side, joined), options.ignoreFields),
        options.sort,
      );
      if (options.normalize) value = options.normalize(value, side);
      return { ok: true, responses: value };
    };
    const [ours, reference] = SIDES.map((side, i) => outcome(side, raw[i]));
    assertSame(ours, reference, `${service}/${method}`);
    const results = {
      ours: this.#public("ours", raw[0]),
      reference: this.#public("reference", raw[1]),
    };
    return { ours, reference, results };
  }

  #errorOutcome(side: Side, error: RawError, options: CompareOptions): Outcome {
    const mode = options.message ?? "exact";
    const message = mode === "ignore"
      ? "<ignored>"
      : typeof mode === "function"
      ? mode(error.message, side)
      : error.message;
    const details = options.details === false
      ? "<ignored>"
      : dropFields(error.details, options.ignoreFields);
    return { ok: false, code: error.codeName, message, details };
  }

  #public(side: Side, raw: RawResult): CallResult {
    return raw.ok ? { ok: true, responses: raw.responses.map((r) => this.#json(side, r)) } : raw;
  }

  async #rawCall(
    side: Side,
    service: string,
    method: string,
    request: unknown,
    metadata: Record<string, string> = {},
  ): Promise<RawResult> {
    const info = methodInfo(service, method);
    const codec = methodCodec(info);
    const conn = this.#conns[side];
    const given = typeof request === "function" ? request(side) : request;
    const prepare = (r: unknown) => bytesFromStrings(info.requestType, r) as Init<unknown>;
    const callOptions = { metadata, timeoutMs: 60_000 };
    try {
      const responses: unknown[] = [];
      if (info.requestStream) {
        const requests = (Array.isArray(given) ? given : [given]).map(prepare);
        if (info.responseStream) {
          const call = bidiStreamCall(conn, codec, callOptions);
          const writing = call.writeAll(requests);
          for await (const response of call) responses.push(response);
          await writing;
        } else {
          const call = clientStreamCall(conn, codec, callOptions);
          await call.writeAll(requests);
          responses.push(await call.response);
        }
      } else if (info.responseStream) {
        for await (const r of serverStreamCall(conn, codec, prepare(given), callOptions)) {
          responses.push(r);
        }
      } else {
        responses.push(await unaryCall(conn, codec, prepare(given), callOptions));
      }
      return { ok: true, responses: responses.map((r) => plain(info.responseType, r)) };
    } catch (error) {
      if (!isServiceError(error)) throw error;
      return this.#failure(side, error);
    }
  }

  /** A failed call's outcome: code, message and details, with this side's paths replaced. */
  #failure(side: Side, error: grpc.ServiceError): RawError {
    return {
      ok: false,
      code: error.code,
      codeName: statusCodeName(error.code),
      message: this.#paths(side, error.details),
      details: decodeDetails(error.metadata).map((d) => ({
        type_url: d.type_url,
        message: this.#json(side, d.message),
      })),
    };
  }

  /** Plain value → JSON-able, with this side's paths replaced. */
  #json(side: Side, value: unknown): unknown {
    return jsonable(value, (s) => this.#paths(side, s));
  }

  #paths(side: Side, text: string): string {
    const dirs: [string, string][] = [
      [this.storagePaths[side], "<storage>"],
      [side === "ours" ? this.ours.dir : this.refDir, "<dir>"],
    ];
    for (const [path, name] of dirs) text = text.split(path).join(name);
    return text;
  }
}

/** Whether `pid` runs (a zombie, which nobody reaps during unload, counts as gone). */
function isAlive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(Deno.readTextFileSync(`/proc/${pid}/stat`));
  } catch {
    return false;
  }
}

type RawError = Extract<CallResult, { ok: false }>;
type RawResult = { ok: true; responses: Record<string, unknown>[] } | RawError;

function methodInfo(service: string, method: string): MethodInfo {
  const info = serviceInfo(service).methods.find((m) => m.name === method);
  if (!info) throw new Error(`no method ${service}/${method}`);
  return info;
}

function isServiceError(error: unknown): error is grpc.ServiceError {
  return typeof error === "object" && error !== null && "code" in error && "details" in error &&
    "metadata" in error;
}

async function command(cmd: string, args: string[], env?: Record<string, string>): Promise<string> {
  const out = await new Deno.Command(cmd, { args, env, stdout: "piped", stderr: "piped" })
    .output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  return text.replace(/\n$/, "");
}

/** Runs `refgitaly start|stop DIR` without any REF_* settings from our environment but `refEnv`. */
export async function refgitaly(
  action: "start" | "stop",
  dir: string,
  refEnv: Record<string, string> = {},
): Promise<void> {
  const env = Deno.env.toObject();
  for (const key of Object.keys(env)) if (key.startsWith("REF_")) delete env[key];
  Object.assign(env, refEnv);
  const out = await new Deno.Command(REFGITALY_PATH, {
    args: [action, dir],
    env,
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    const text = new TextDecoder().decode(out.stderr) + new TextDecoder().decode(out.stdout);
    throw new Error(`refgitaly ${action} ${dir} failed (${out.code}):\n${text}`);
  }
}

/**
 * Restarts the reference on its config with `toml` appended (refgitaly
 * writes its own config at every start): stops it, appends, starts the same
 * binary the way refgitaly does (its own session, pid in `gitaly.pid`, so
 * `refgitaly stop` stops it) and waits for its socket.
 */
/**
 * Restarts the reference in `dir` with `toml` appended to its config (as
 * `refgitaly start` wrote it), keeping its directory and socket.
 */
export async function restartReference(dir: string, toml: string): Promise<void> {
  await refgitaly("stop", dir);
  const env = await new Deno.Command(REFGITALY_PATH, { args: ["env", dir], stdout: "piped" })
    .output();
  const bin = /REF_GITALY_BIN='([^']*)'/.exec(new TextDecoder().decode(env.stdout))?.[1];
  if (!bin) throw new Error(`refgitaly env ${dir}: no REF_GITALY_BIN`);
  const configPath = join(dir, "config.toml");
  await Deno.writeTextFile(configPath, toml, { append: true });
  // exec keeps the pid: the one written below is the server's.
  const child = new Deno.Command("sh", {
    args: [
      "-c",
      'exec setsid "$0" serve "$1" >>"$2" 2>&1 </dev/null',
      bin,
      configPath,
      join(dir, "gitaly.log"),
    ],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  child.unref();
  await Deno.writeTextFile(join(dir, "gitaly.pid"), `${child.pid}\n`);
  const socket = join(dir, "gitaly.socket");
  for (let i = 0; i < 600; i++) {
    try {
      (await Deno.connect({ transport: "unix", path: socket })).close();
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw new Error(`reference did not come back with the appended config (log ${dir}/gitaly.log)`);
}

/** A copy of `value` (a request of `type`) with strings in `bytes` fields UTF-8 encoded. */
function bytesFromStrings(type: protobuf.Type, value: unknown): unknown {
  if (typeof value !== "object" || value === null || value instanceof protobuf.Message) {
    return value;
  }
  const out: Record<string, unknown> = { ...value as Record<string, unknown> };
  for (const field of type.fieldsArray) {
    const v = out[field.name];
    if (v === undefined || v === null) continue;
    const convert = (item: unknown): unknown => {
      if (field.type === "bytes" && typeof item === "string") return encoder.encode(item);
      if (field.resolvedType instanceof protobuf.Type) {
        return bytesFromStrings(field.resolvedType, item);
      }
      return item;
    };
    out[field.name] = field.repeated && Array.isArray(v) ? v.map(convert) : convert(v);
  }
  return out;
}

/** A decoded message as a plain object: every field (defaults too), enums by name, bytes as Uint8Array. */
function plain(type: protobuf.Type, message: unknown): Record<string, unknown> {
  return type.toObject(message as protobuf.Message, {
    enums: String,
    longs: Number,
    defaults: true,
    arrays: true,
  });
}

const STATUS = protobuf.Root.fromJSON({
  nested: {
    google: {
      nested: {
        rpc: {
          nested: {
            Status: {
              fields: {
                code: { type: "int32", id: 1 },
                message: { type: "string", id: 2 },
                details: { rule: "repeated", type: "Any", id: 3 },
              },
            },
            Any: {
              fields: { type_url: { type: "string", id: 1 }, value: { type: "bytes", id: 2 } },
            },
          },
        },
      },
    },
  },
}).lookupType("google.rpc.Status");

/** The `details` of `grpc-status-details-bin`, each decoded as its type (from our proto root) if known. */
function decodeDetails(
  metadata: grpc.Metadata | undefined,
): { type_url: string; message: unknown }[] {
  const bin = metadata?.get("grpc-status-details-bin")[0];
  if (!(bin instanceof Uint8Array)) return [];
  const status = STATUS.toObject(STATUS.decode(bin), { defaults: true, arrays: true }) as {
    details: { type_url: string; value: Uint8Array }[];
  };
  return status.details.map(({ type_url, value }) => {
    const name = type_url.slice(type_url.lastIndexOf("/") + 1);
    let type: protobuf.Type | undefined;
    try {
      type = root.lookupType("." + name);
    } catch {
      type = undefined;
    }
    return { type_url, message: type ? plain(type, type.decode(value)) : value };
  });
}

/** Joins streamed responses (plain, bytes still Uint8Array) as {@link Join} says. */
export function joinResponses(responses: Record<string, unknown>[], join: Join): unknown {
  if (typeof join === "function") return join(responses);
  if (join === "none") return responses;
  if (join !== "auto") {
    const parts = responses.map((r) => r[join]);
    if (parts.every((p) => p instanceof Uint8Array)) return concatBytes(parts as Uint8Array[]);
    return parts.flatMap((p) => (Array.isArray(p) ? p : p === undefined ? [] : [p]));
  }
  const joined: Record<string, unknown> = {};
  const keys = new Set(responses.flatMap((r) => Object.keys(r)));
  for (const key of keys) {
    const values = responses.map((r) => r[key]).filter((v) => v !== undefined);
    if (values.every(Array.isArray)) joined[key] = values.flat();
    else if (values.every((v) => v instanceof Uint8Array)) {
      joined[key] = concatBytes(values as Uint8Array[]);
    } else {
      const set = values.filter((v) => !isDefault(v));
      const distinct = [...new Map(set.map((v) => [stableJson(jsonable(v)), v])).values()];
      joined[key] = distinct.length > 1
        ? { $perMessage: values }
        : distinct.length === 1
        ? distinct[0]
        : values[0];
    }
  }
  return joined;
}

/**
 * A {@link Join} for streams of records split over messages (GetBlobs,
 * ListBlobs, GetCommitMessages, CommitDiff, …): a message whose `key` field
 * is set starts a record; the `concat` fields of the following messages are
 * appended to it, and their other set fields overwrite its own (so a
 * closing flag such as `end_of_patch` ends up set). Returns the records.
 */
export function joinRecords(key: string, concat: string[] = ["data"]): Join {
  return (responses) => {
    const records: Record<string, unknown>[] = [];
    for (const response of responses) {
      const current = records[records.length - 1];
      if (!current || !isDefault(response[key])) {
        records.push({ ...response });
        continue;
      }
      for (const [field, value] of Object.entries(response)) {
        if (concat.includes(field)) {
          const before = current[field];
          current[field] = value instanceof Uint8Array && before instanceof Uint8Array
            ? concatBytes([before, value])
            : Array.isArray(value) && Array.isArray(before)
            ? [...before, ...value]
            : value;
        } else if (!isDefault(value)) current[field] = value;
      }
    }
    return records;
  };
}

function isDefault(value: unknown): boolean {
  return value === null || value === "" || value === 0 || value === false ||
    (value instanceof Uint8Array && value.byteLength === 0) ||
    (typeof value === "string" && /^[A-Z_]+_UNSPECIFIED$|^UNKNOWN$/.test(value));
}

/** Concatenates byte arrays. */
export function concatBytes(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
}

/** `value` as JSON-able data: bytes per the module's rules, strings through `mapString`. */
export function jsonable(value: unknown, mapString: (s: string) => string = (s) => s): unknown {
  if (value instanceof Uint8Array) return bytesJson(value, mapString);
  if (typeof value === "string") return mapString(value);
  if (Array.isArray(value)) return value.map((v) => jsonable(v, mapString));
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, jsonable(v, mapString)]),
    );
  }
  return value;
}

function bytesJson(bytes: Uint8Array, mapString: (s: string) => string): unknown {
  if (bytes.byteLength > LARGE_BYTES) {
    return {
      $bytes: escapeBytes(bytes.subarray(0, 64)) + "…",
      size: bytes.byteLength,
      sha256: createHash("sha256").update(bytes).digest("hex"),
    };
  }
  try {
    return mapString(utf8.decode(bytes));
  } catch {
    return { $bytes: escapeBytes(bytes) };
  }
}

function escapeBytes(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) {
    out += b === 0x5c
      ? "\\\\"
      : b >= 0x20 && b < 0x7f
      ? String.fromCharCode(b)
      : `\\x${b.toString(16).padStart(2, "0")}`;
  }
  return out;
}

/** Removes fields named in `names` at any depth. */
function dropFields(value: unknown, names: string[] | undefined): unknown {
  if (!names?.length) return value;
  if (Array.isArray(value)) return value.map((v) => dropFields(v, names));
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(
      Object.entries(value).filter(([k]) => !names.includes(k)).map((
        [k, v],
      ) => [k, dropFields(v, names)]),
    );
  }
  return value;
}

function sortArrays(value: unknown, sort: boolean | string[] | undefined): unknown {
  if (!sort) return value;
  const sorted = (a: unknown[]) =>
    [...a].sort((x, y) => {
      const [jx, jy] = [stableJson(x), stableJson(y)];
      return jx < jy ? -1 : jx > jy ? 1 : 0;
    });
  if (Array.isArray(value)) return sort === true ? sorted(value) : value;
  if (typeof value !== "object" || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [
      k,
      Array.isArray(v) && (sort === true || sort.includes(k)) ? sorted(v) : v,
    ]),
  );
}

/** JSON with object keys sorted, so equal values print equally. */
export function stableJson(value: unknown, indent?: number): string {
  return JSON.stringify(sortKeys(value), null, indent);
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value === "object" && value !== null && !(value instanceof Uint8Array)) {
    return Object.fromEntries(
      Object.keys(value).sort().map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

/** The first path where `a` and `b` differ (`responses.tags[3].name`), or undefined. */
export function firstDifference(a: unknown, b: unknown, path = ""): string | undefined {
  if (Object.is(a, b)) return undefined;
  const bothArrays = Array.isArray(a) && Array.isArray(b);
  const bothObjects = typeof a === "object" && a !== null && typeof b === "object" && b !== null &&
    !Array.isArray(a) && !Array.isArray(b);
  if (bothArrays) {
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      const d = firstDifference(a[i], b[i], `${path}[${i}]`);
      if (d) return d;
    }
    return a.length === b.length ? undefined : `${path}.length`;
  }
  if (bothObjects) {
    const ra = a as Record<string, unknown>;
    const rb = b as Record<string, unknown>;
    for (const key of new Set([...Object.keys(ra), ...Object.keys(rb)])) {
      const d = firstDifference(ra[key], rb[key], path ? `${path}.${key}` : key);
      if (d) return d;
    }
    return undefined;
  }
  return path || "<root>";
}

function valueAt(value: unknown, path: string): unknown {
  if (path === "<root>") return value;
  let at = value;
  for (const part of path.replace(/\.length$/, "").match(/[^.[\]]+/g) ?? []) {
    if (typeof at !== "object" || at === null) return undefined;
    at = (at as Record<string, unknown>)[part];
  }
  return path.endsWith(".length") && Array.isArray(at) ? at.length : at;
}

function clip(text: string, max = 4000): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length - max} more)`;
}

/** Asserts `ours` and `reference` are equal; otherwise throws naming the first differing path. */
export function assertSame(ours: unknown, reference: unknown, what: string): void {
  const path = firstDifference(ours, reference);
  if (path === undefined) return;
  const show = (v: unknown) => clip(stableJson(v, 2) ?? "undefined", 1500);
  throw new Error(
    `${what}: ours and the reference differ at ${path}\n` +
      `  ours:      ${show(valueAt(ours, path))}\n` +
      `  reference: ${show(valueAt(reference, path))}\n` +
      `--- ours (whole)\n${clip(stableJson(ours, 2))}\n` +
      `--- reference (whole)\n${clip(stableJson(reference, 2))}`,
  );
}
