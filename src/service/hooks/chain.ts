/**
 * What the hooks of a push do on the server, as Gitaly's hook manager does
 * it: pre-receive asks GitLab's `/allowed`, runs the custom hooks, then
 * `/pre_receive`; update runs the custom hooks; post-receive calls
 * `/post_receive` (its messages go to the pusher), then the custom hooks.
 * Custom hooks are `<repo>/custom_hooks/<hook>`, `<repo>/custom_hooks/
 * <hook>.d/*` and `<custom_hooks_dir>/<hook>.d/*`, in that order (a `.d`
 * folder sorted by name), skipping anything that is not an executable
 * file or ends in `~`; the first failure ends the chain. Without a GitLab
 * API configured, only the custom hooks run. Behind Praefect only the
 * transaction's primary runs the hooks, a hook that refuses stops the
 * transaction so the other voters give up at once, and every node then
 * casts a synchronizing vote so that the secondaries wait for the primary.
 *
 * @module
 */
import { dirname, join, relative } from "node:path";
import type { AllowedParams, GitlabApi, PostReceiveMessage } from "../../gitlab/client.ts";
import { INHERITED_ENV_VARS } from "../../git/env.ts";
import type { Repository } from "../../proto/types.ts";
import type { ServiceDeps } from "../deps.ts";
import { isPrimary, transactionManagerOf, voteFromData } from "../shared/transaction.ts";
import { envValue, type HooksPayload, hooksPayloadFromEnv, PayloadError } from "./payload.ts";

/** Where a hook's output goes (resolves when more may be written). */
export interface HookOutput {
  stdout: (chunk: Uint8Array) => Promise<void>;
  stderr: (chunk: Uint8Array) => Promise<void>;
}

/**
 * A hook that says no. `exitCode` is what git sees; `message` (may be
 * empty) goes to the hook's stderr. A failing custom hook carries its own
 * exit code and no message: its output already went out.
 */
export class HookFailure extends Error {
  constructor(message: string, readonly exitCode = 1, readonly fromCustomHook = false) {
    super(message);
    this.name = "HookFailure";
  }
}

/** The inputs every hook RPC shares. */
export interface HookCall {
  repository: Partial<Repository>;
  repoPath: string;
  /** The hook process's environment (`KEY=value`). */
  env: readonly string[];
  pushOptions: readonly string[];
  output: HookOutput;
  signal: AbortSignal;
}

/** The hook chain of one server. */
export class HookChain {
  constructor(readonly deps: ServiceDeps, readonly gitlab: GitlabApi | undefined) {}

  /** pre-receive: `/allowed`, custom hooks, `/pre_receive`. */
  preReceive(call: HookCall, changes: Uint8Array): Promise<void> {
    return this.#run("pre-receive", call, (payload) => this.#preReceive(call, payload, changes));
  }

  /** update: the custom hooks with `ref old new`. */
  update(call: HookCall, ref: string, oldValue: string, newValue: string): Promise<void> {
    return this.#run(
      "update",
      call,
      (payload) => this.#update(call, payload, ref, oldValue, newValue),
    );
  }

  /** post-receive: `/post_receive` (messages to the pusher), then the custom hooks. */
  postReceive(call: HookCall, changes: Uint8Array): Promise<void> {
    return this.#run("post-receive", call, (payload) => this.#postReceive(call, payload, changes));
  }

  /**
   * Runs `hook` unless this node is a secondary of the payload's
   * transaction; when it refuses, stops the transaction (a failure to stop
   * is only logged) and rethrows. Then, on every node, synchronizes with
   * the others with a vote in the synchronized phase on
   * `synchronize <name> hook` (Gitaly's `synchronize_hook_executions`), so
   * that secondaries lock their references only once the primary's hook is
   * done.
   */
  async #run(
    name: string,
    call: HookCall,
    hook: (payload: HooksPayload) => Promise<void>,
  ): Promise<void> {
    const payload = decodePayload(call.env);
    const tx = payload.transaction;
    const manager = transactionManagerOf(this.deps);
    if (isPrimary(tx)) {
      try {
        await hook(payload);
      } catch (error) {
        if (tx) {
          await manager.stop(tx, call.signal).catch((stopError) => {
            this.deps.logger.error(`failed stopping transaction in ${name} hook`, {
              error: (stopError as Error).message,
            });
          });
        }
        throw error;
      }
    }
    if (!tx) return;
    const vote = voteFromData(`synchronize ${name} hook`);
    await manager.vote(tx, vote, "synchronized", call.signal).catch((error) => {
      throw new HookFailure(
        `synchronizing ${name} hook: vote failed: ${(error as Error).message}`,
      );
    });
  }

  async #preReceive(call: HookCall, payload: HooksPayload, changes: Uint8Array): Promise<void> {
    const repo = { ...call.repository };
    const objectDir = envValue(call.env, "GIT_OBJECT_DIRECTORY") ?? "";
    const alternates = envValue(call.env, "GIT_ALTERNATE_OBJECT_DIRECTORIES") ?? "";
    if (objectDir && alternates) {
      const real = await Deno.realPath(call.repoPath).catch((error) => {
        throw new HookFailure(`getting relative git object directories: ${error.message}`);
      });
      repo.git_object_directory = relative(real, objectDir);
      repo.git_alternate_object_directories = alternates.split(":").map((dir) =>
        relative(real, dir)
      );
    }
    if (changes.length === 0) throw new HookFailure("hook got no reference updates");
    if (!repo.gl_repository) throw new HookFailure("repository not set");
    const user = payload.userDetails;
    if (!user) throw new HookFailure("payload has no receive hooks info");
    if (!user.userid) throw new HookFailure("user ID not set");
    if (!user.protocol) throw new HookFailure("protocol not set");
    const text = new TextDecoder().decode(changes);
    if (this.gitlab) {
      const params: AllowedParams = {
        repoPath: call.repoPath,
        relativePath: repo.relative_path ?? "",
        gitObjectDirectory: repo.git_object_directory ?? "",
        gitAlternateObjectDirectories: repo.git_alternate_object_directories ?? [],
        glRepository: repo.gl_repository,
        glId: user.userid,
        glProtocol: user.protocol,
        changes: text,
      };
      let verdict: { allowed: boolean; message: string };
      try {
        verdict = await this.gitlab.allowed(params, call.signal);
      } catch (error) {
        throw new HookFailure(`GitLab: ${(error as Error).message}`);
      }
      if (!verdict.allowed) throw new HookFailure(`GitLab: ${verdict.message}`);
    }
    await this.#runCustomHooks("pre-receive", call, payload, [], changes);
    if (this.gitlab) {
      let ok: boolean;
      try {
        ok = await this.gitlab.preReceive(repo.gl_repository, call.signal);
      } catch (error) {
        throw new HookFailure(`calling pre_receive endpoint: ${(error as Error).message}`);
      }
      if (!ok) throw new HookFailure("");
    }
  }

  async #update(
    call: HookCall,
    payload: HooksPayload,
    ref: string,
    oldValue: string,
    newValue: string,
  ): Promise<void> {
    if (ref === "") throw new HookFailure("hook got no reference");
    for (const [what, value] of [["old", oldValue], ["new", newValue]]) {
      if (!/^[0-9a-f]{40}$/.test(value)) {
        throw new HookFailure(`hook got invalid ${what} value: invalid object ID: "${value}"`);
      }
    }
    if (!payload.userDetails) throw new HookFailure("payload has no receive hooks info");
    await this.#runCustomHooks("update", { ...call, pushOptions: [] }, payload, [
      ref,
      oldValue,
      newValue,
    ], new Uint8Array());
  }

  async #postReceive(call: HookCall, payload: HooksPayload, changes: Uint8Array): Promise<void> {
    if (changes.length === 0) throw new HookFailure("hook got no reference updates");
    const user = payload.userDetails;
    if (!user) throw new HookFailure("payload has no receive hooks info");
    if (!user.userid) throw new HookFailure("user ID not set");
    if (!call.repository.gl_repository) throw new HookFailure("repository not set");
    if (this.gitlab) {
      let answer: { ok: boolean; messages: PostReceiveMessage[] };
      try {
        answer = await this.gitlab.postReceive(
          call.repository.gl_repository,
          user.userid,
          new TextDecoder().decode(changes),
          [...call.pushOptions],
          call.signal,
        );
      } catch (error) {
        throw new HookFailure(`GitLab: ${(error as Error).message}`);
      }
      await call.output.stdout(new TextEncoder().encode(formatMessages(answer.messages)));
      if (!answer.ok) throw new HookFailure("");
    }
    await this.#runCustomHooks("post-receive", call, payload, [], changes);
  }

  async #runCustomHooks(
    hook: string,
    call: HookCall,
    payload: HooksPayload,
    args: string[],
    stdin: Uint8Array,
  ): Promise<void> {
    const files = await findCustomHooks(
      call.repoPath,
      hook,
      this.deps.config.hooks?.customHooksDir,
    );
    if (files.length === 0) return;
    const env = customHooksEnv(call, payload, this.deps.config.git.binPath);
    for (const file of files) {
      const code = await runOne(file, args, env, stdin, call);
      if (code !== 0) throw new HookFailure("", code, true);
    }
  }
}

function decodePayload(env: readonly string[]): HooksPayload {
  try {
    return hooksPayloadFromEnv(env);
  } catch (error) {
    if (error instanceof PayloadError) {
      throw new HookFailure(`extracting hooks payload: ${error.message}`);
    }
    throw error;
  }
}

/** Terminal width git's `remote: ` prefix leaves for a message. */
const MESSAGE_WIDTH = 80 - "remote: ".length;
/** Alerts keep two spaces free at either side. */
const ALERT_TEXT_WIDTH = MESSAGE_WIDTH - 4;

/**
 * `/post_receive`'s messages as Gitaly prints them: each preceded by a
 * blank line and followed by two newlines; an alert framed by `=` lines
 * with its words wrapped and centred.
 */
export function formatMessages(messages: readonly PostReceiveMessage[]): string {
  let out = "";
  for (const message of messages) {
    out += "\n";
    if (message.type === "basic") out += message.message;
    else if (message.type === "alert") out += formatAlert(message.message);
    else {throw new HookFailure(
        `error writing messages to stream: invalid message type: ${message.type}`,
      );}
    out += "\n\n";
  }
  return out;
}

function formatAlert(text: string): string {
  const rule = "=".repeat(MESSAGE_WIDTH);
  let out = `${rule}\n\n`;
  let line = "";
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line.length + 1 + word.length > ALERT_TEXT_WIDTH) {
      out += `${center(line)}\n`;
      line = "";
    }
    line += `${word} `;
  }
  return `${out}${center(line)}\n\n${rule}`;
}

function center(line: string): string {
  const text = line.trim();
  return " ".repeat(Math.max(Math.floor((MESSAGE_WIDTH - text.length) / 2), 0)) + text;
}

/** The custom hooks for `hook`, in the order they run. */
export async function findCustomHooks(
  repoPath: string,
  hook: string,
  globalDir: string | undefined,
): Promise<string[]> {
  const files: string[] = [];
  const own = join(repoPath, "custom_hooks", hook);
  if (await isValidHook(own)) files.push(own);
  files.push(...await hooksIn(join(repoPath, "custom_hooks", `${hook}.d`)));
  if (globalDir) files.push(...await hooksIn(join(globalDir, `${hook}.d`)));
  return files;
}

async function hooksIn(dir: string): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) names.push(entry.name);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory) {
      return [];
    }
    throw error;
  }
  const files: string[] = [];
  for (const name of names.sort()) {
    const path = join(dir, name);
    if (await isValidHook(path)) files.push(path);
  }
  return files;
}

async function isValidHook(path: string): Promise<boolean> {
  if (path.endsWith("~")) return false;
  try {
    const info = await Deno.stat(path);
    return info.isFile && ((info.mode ?? 0) & 0o111) !== 0;
  } catch {
    return false;
  }
}

/**
 * The custom hooks' environment, as Gitaly builds it: the allow-listed
 * variables of the hook's own environment, the push options, the
 * (quarantine) object directories, git's directory first on PATH, and the
 * repository and pusher as `GIT_DIR` and `GL_*`.
 */
export function customHooksEnv(
  call: HookCall,
  payload: HooksPayload,
  gitBinPath: string,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const entry of call.env) {
    const eq = entry.indexOf("=");
    if (eq > 0 && INHERITED_ENV_VARS.includes(entry.slice(0, eq))) {
      env[entry.slice(0, eq)] = entry.slice(eq + 1);
    }
  }
  if (call.pushOptions.length) {
    env.GIT_PUSH_OPTION_COUNT = String(call.pushOptions.length);
    call.pushOptions.forEach((option, i) => env[`GIT_PUSH_OPTION_${i}`] = option);
  }
  const repo = payload.repository;
  const objectDir = envValue(call.env, "GIT_OBJECT_DIRECTORY") ||
    (repo.git_object_directory ? join(call.repoPath, repo.git_object_directory) : "");
  if (objectDir) env.GIT_OBJECT_DIRECTORY = objectDir;
  const alternates = envValue(call.env, "GIT_ALTERNATE_OBJECT_DIRECTORIES") ||
    (repo.git_alternate_object_directories ?? []).map((d) => join(call.repoPath, d)).join(":");
  if (alternates) env.GIT_ALTERNATE_OBJECT_DIRECTORIES = alternates;
  const gitDir = dirname(gitBinPath);
  if (gitDir !== ".") {
    env.PATH = `${gitDir}:${envValue(call.env, "PATH") || Deno.env.get("PATH") || ""}`;
  }
  const user = payload.userDetails;
  Object.assign(env, {
    GIT_DIR: call.repoPath,
    GL_REPOSITORY: repo.gl_repository ?? "",
    GL_PROJECT_PATH: repo.gl_project_path ?? "",
    GL_ID: user?.userid ?? "",
    GL_USERNAME: user?.username ?? "",
    GL_PROTOCOL: user?.protocol ?? "",
  });
  return env;
}

/** Runs one custom hook in the repository; resolves to its exit code. */
async function runOne(
  file: string,
  args: string[],
  env: Record<string, string>,
  stdin: Uint8Array,
  call: HookCall,
): Promise<number> {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(file, {
      args,
      cwd: call.repoPath,
      env,
      clearEnv: true,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      signal: call.signal,
    }).spawn();
  } catch (error) {
    throw new HookFailure(
      `executing custom hooks: error executing "${file}": ${(error as Error).message}`,
    );
  }
  const feed = (async () => {
    const writer = child.stdin.getWriter();
    try {
      if (stdin.length) await writer.write(stdin);
      await writer.close();
    } catch {
      // The hook need not read its input.
    }
  })();
  await Promise.all([
    forward(child.stdout, call.output.stdout),
    forward(child.stderr, call.output.stderr),
    feed,
  ]);
  const status = await child.status;
  return status.success ? 0 : status.code || 1;
}

async function forward(
  stream: ReadableStream<Uint8Array>,
  sink: (chunk: Uint8Array) => Promise<void>,
): Promise<void> {
  for await (const chunk of stream) await sink(chunk);
}
