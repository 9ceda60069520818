/**
 * GitLab's internal API as Gitaly calls it (`/api/v4/internal/...`):
 * `/allowed` (may this user push these changes?), `/pre_receive` and
 * `/post_receive` (reference counter, messages for the pusher) and
 * `/check`. Every request carries the shared secret as a short-lived
 * HS256 JWT in `Gitlab-Shell-Api-Request` (issuer `gitlab-shell`), and
 * HTTP basic auth when both a user and a password are configured.
 * URLs may be `http://`, `https://` (extra CAs from `ca_file`/`ca_path`)
 * or `http+unix://<socket path>` (then `relative_url_root` prefixes paths).
 * Connection failures and 5xx answers are retried twice, with 1 s and 2 s
 * pauses, as gitlab-shell's client does.
 *
 * @module
 */
import { createHmac } from "node:crypto";
import { join } from "node:path";
import { VERSION } from "../version.ts";

/** The `[gitlab]` settings the client uses. */
export interface GitlabSettings {
  /** `http://…`, `https://…` or `http+unix://…` (percent-escapes allowed). */
  url: string;
  relativeUrlRoot?: string;
  /** The shared secret itself; wins over `secretFile`. */
  secret?: string;
  secretFile?: string;
  httpSettings: {
    /** Seconds for a whole request; 0 means the default of 300. */
    readTimeout?: number;
    user?: string;
    password?: string;
    caFile?: string;
    caPath?: string;
  };
}

/** An answer of the API that is not what Gitaly expects, or no answer at all. */
export class GitlabApiError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "GitlabApiError";
  }
}

/** What `/allowed` needs to decide. */
export interface AllowedParams {
  /** The repository's absolute path (GitLab's `project`). */
  repoPath: string;
  /** The repository's path relative to its storage. */
  relativePath: string;
  /** Quarantine object directory relative to the repository. */
  gitObjectDirectory: string;
  gitAlternateObjectDirectories: string[];
  glRepository: string;
  /** `user-N`, `key-N` or `username-NAME`. */
  glId: string;
  /** `ssh`, `http` or `web`. */
  glProtocol: string;
  /** The pushed `<old> <new> <ref>` lines. */
  changes: string;
}

/** One message `/post_receive` asks to show the pusher. */
export interface PostReceiveMessage {
  message: string;
  /** `basic` or `alert`. */
  type: string;
}

/** `/check`'s answer. */
export interface CheckInfo {
  version: string;
  revision: string;
  apiVersion: string;
  redisReachable: boolean;
}

/** The calls the hooks make; tests may substitute their own. */
export interface GitlabApi {
  allowed(
    params: AllowedParams,
    signal?: AbortSignal,
  ): Promise<{ allowed: boolean; message: string }>;
  preReceive(glRepository: string, signal?: AbortSignal): Promise<boolean>;
  postReceive(
    glRepository: string,
    glId: string,
    changes: string,
    pushOptions: string[],
    signal?: AbortSignal,
  ): Promise<{ ok: boolean; messages: PostReceiveMessage[] }>;
  check(signal?: AbortSignal): Promise<CheckInfo>;
}

const INTERNAL_API_PATH = "/api/v4/internal";
const JWT_HEADER = "Gitlab-Shell-Api-Request";
const JWT_ISSUER = "gitlab-shell";
const JWT_TTL_SECONDS = 60;
const DEFAULT_READ_TIMEOUT_SECONDS = 300;
const RETRIES = 2;
const RETRY_WAIT_MS = 1000;

const encoder = new TextEncoder();

/** The HS256 token gitlab-shell's client sends with every request (`now` in seconds). */
export function signApiToken(secret: string, now: number = Math.floor(Date.now() / 1000)): string {
  const part = (value: unknown) => base64url(encoder.encode(JSON.stringify(value)));
  const unsigned = `${part({ alg: "HS256", typ: "JWT" })}.${
    part({ iss: JWT_ISSUER, exp: now + JWT_TTL_SECONDS, iat: now })
  }`;
  const mac = createHmac("sha256", secret.trim()).update(unsigned).digest();
  return `${unsigned}.${base64url(new Uint8Array(mac))}`;
}

function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** Reads the secret (`secret`, else `secret_file`); throws a readable error. */
export async function readSecret(settings: GitlabSettings): Promise<string> {
  if (settings.secret) return settings.secret;
  if (!settings.secretFile) throw new GitlabApiError("no secret configured");
  try {
    return await Deno.readTextFile(settings.secretFile);
  } catch (error) {
    throw new GitlabApiError(`reading secret file: ${(error as Error).message}`);
  }
}

/** The HTTP client of GitLab's internal API. */
export class GitlabClient implements GitlabApi {
  readonly #base: string;
  readonly #http: Deno.HttpClient | undefined;
  readonly #secret: string;
  readonly #settings: GitlabSettings;
  readonly #retryWaitMs: number;

  private constructor(
    settings: GitlabSettings,
    secret: string,
    base: string,
    http: Deno.HttpClient | undefined,
    retryWaitMs: number,
  ) {
    this.#settings = settings;
    this.#secret = secret;
    this.#base = base;
    this.#http = http;
    this.#retryWaitMs = retryWaitMs;
  }

  /** Builds a client: validates the URL, reads the secret and CA certificates. */
  static async create(
    settings: GitlabSettings,
    options: { retryWaitMs?: number } = {},
  ): Promise<GitlabClient> {
    let url: string;
    try {
      url = decodeURIComponent(settings.url);
    } catch {
      throw new GitlabApiError(`${settings.url} is not a valid url`);
    }
    const secret = await readSecret(settings);
    let base: string;
    let http: Deno.HttpClient | undefined;
    if (url.startsWith("http+unix://")) {
      const path = url.slice("http+unix://".length);
      const root = (settings.relativeUrlRoot ?? "").replace(/^\/+|\/+$/g, "");
      base = root ? `http://unix/${root}` : "http://unix";
      http = Deno.createHttpClient({ proxy: { transport: "unix", path } });
    } else if (url.startsWith("http://")) {
      base = url;
    } else if (url.startsWith("https://")) {
      const caCerts = await readCaCerts(settings.httpSettings);
      base = url;
      http = caCerts.length ? Deno.createHttpClient({ caCerts }) : undefined;
    } else {
      throw new GitlabApiError("unknown GitLab URL prefix");
    }
    return new GitlabClient(settings, secret, base, http, options.retryWaitMs ?? RETRY_WAIT_MS);
  }

  /** Frees the connection pool. */
  close(): void {
    this.#http?.close();
  }

  async allowed(
    params: AllowedParams,
    signal?: AbortSignal,
  ): Promise<{ allowed: boolean; message: string }> {
    const body: Record<string, string> = {
      action: "git-receive-pack",
      gl_repository: params.glRepository,
      project: params.repoPath.replaceAll("'", ""),
      changes: params.changes,
      protocol: params.glProtocol,
      env: JSON.stringify({
        // Go marshals an empty (nil) list as null.
        GIT_ALTERNATE_OBJECT_DIRECTORIES_RELATIVE: params.gitAlternateObjectDirectories.length
          ? params.gitAlternateObjectDirectories
          : null,
        GIT_OBJECT_DIRECTORY_RELATIVE: params.gitObjectDirectory,
      }),
      ...glIdFields(params.glId),
      relative_path: params.relativePath,
    };
    for (const key of Object.keys(body)) if (body[key] === "") delete body[key];
    const response = await this.#request("POST", "/allowed", body, signal);
    if (response.status !== 200 && response.status !== 300) {
      throw new GitlabApiError(`gitlab api is not accessible: ${response.status}`);
    }
    const json = await jsonBody(
      response,
      "/allowed endpoint respond with unsupported content type",
    );
    return { allowed: json.status === true, message: String(json.message ?? "") };
  }

  async preReceive(glRepository: string, signal?: AbortSignal): Promise<boolean> {
    let response: Response;
    try {
      response = await this.#request(
        "POST",
        "/pre_receive",
        { gl_repository: glRepository },
        signal,
      );
    } catch (error) {
      throw new GitlabApiError(
        `http post to gitlab api /pre_receive endpoint: ${(error as Error).message}`,
      );
    }
    if (response.status !== 200) {
      await response.body?.cancel();
      throw new GitlabApiError(`pre-receive call failed with status: ${response.status}`);
    }
    const json = await jsonBody(
      response,
      "/pre_receive endpoint respond with unsupported content type",
    );
    return json.reference_counter_increased === true;
  }

  async postReceive(
    glRepository: string,
    glId: string,
    changes: string,
    pushOptions: string[],
    signal?: AbortSignal,
  ): Promise<{ ok: boolean; messages: PostReceiveMessage[] }> {
    let response: Response;
    try {
      response = await this.#request("POST", "/post_receive", {
        gl_repository: glRepository,
        identifier: glId,
        changes,
        push_options: pushOptions.length ? pushOptions : null,
      }, signal);
    } catch (error) {
      throw new GitlabApiError(
        `http post to gitlab api /post_receive endpoint: ${(error as Error).message}`,
      );
    }
    if (response.status !== 200) {
      await response.body?.cancel();
      throw new GitlabApiError(`post-receive call failed with status: ${response.status}`);
    }
    const json = await jsonBody(
      response,
      "/post_receive endpoint respond with unsupported content type",
    );
    const messages = Array.isArray(json.messages) ? json.messages : [];
    return {
      ok: json.reference_counter_decreased === true,
      messages: messages.map((m: Record<string, unknown>) => ({
        message: String(m?.message ?? ""),
        type: String(m?.type ?? ""),
      })),
    };
  }

  async check(signal?: AbortSignal): Promise<CheckInfo> {
    let response: Response;
    try {
      response = await this.#request("GET", "/check", undefined, signal);
    } catch (error) {
      throw new GitlabApiError(
        `HTTP GET to GitLab endpoint /check failed: ${(error as Error).message}`,
      );
    }
    if (response.status !== 200) {
      await response.body?.cancel();
      throw new GitlabApiError(`Check HTTP request failed with status: ${response.status}`);
    }
    let json: Record<string, unknown>;
    try {
      json = await response.json();
    } catch (error) {
      throw new GitlabApiError(
        `failed to decode response from /check endpoint: ${(error as Error).message}`,
      );
    }
    return {
      version: String(json.gitlab_version ?? ""),
      revision: String(json.gitlab_rev ?? ""),
      apiVersion: String(json.api_version ?? ""),
      redisReachable: json.redis === true,
    };
  }

  /**
   * One request with retries. Errors as gitlab-shell words them: no
   * connection is "Internal API unreachable"; a status of 400 or more is
   * the JSON body's `message`, else "Internal API error (status)".
   */
  async #request(
    method: "GET" | "POST",
    path: string,
    body: unknown,
    signal?: AbortSignal,
  ): Promise<Response> {
    const url = `${this.#base.replace(/\/+$/, "")}${INTERNAL_API_PATH}${path}`;
    const timeoutMs = (this.#settings.httpSettings.readTimeout || DEFAULT_READ_TIMEOUT_SECONDS) *
      1000;
    for (let attempt = 0;; attempt++) {
      const headers = new Headers({
        [JWT_HEADER]: signApiToken(this.#secret),
        "Content-Type": "application/json",
        "User-Agent": `gitaly/${VERSION}`,
        Connection: "close",
      });
      const { user, password } = this.#settings.httpSettings;
      if (user && password) headers.set("Authorization", `Basic ${btoa(`${user}:${password}`)}`);
      const timeout = AbortSignal.timeout(timeoutMs);
      let response: Response | undefined;
      try {
        response = await fetch(url, {
          method,
          headers,
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
          client: this.#http,
        });
      } catch {
        if (signal?.aborted) throw new GitlabApiError("Internal API unreachable");
      }
      const retriable = !response || (response.status >= 500 && response.status !== 501);
      if (retriable) {
        await response?.body?.cancel();
        // Out of attempts, gitlab-shell's client gives up as if there was no answer.
        if (attempt >= RETRIES) throw new GitlabApiError("Internal API unreachable");
        await sleep(this.#retryWaitMs * 2 ** attempt, signal);
        continue;
      }
      if (response!.status >= 400) throw new GitlabApiError(await errorMessage(response!));
      return response!;
    }
  }
}

function glIdFields(glId: string): Record<string, string> {
  let value = "";
  if (glId.startsWith("username-")) return { username: glId.slice("username-".length) };
  const fields: Record<string, string> = {};
  if (glId.startsWith("key-")) fields.key_id = value = glId.slice("key-".length);
  else if (glId.startsWith("user-")) fields.user_id = value = glId.slice("user-".length);
  if (!/^[0-9]+$/.test(value)) {
    throw new GitlabApiError(`setting gl_id: gl_id='${glId}' is invalid`);
  }
  return fields;
}

async function errorMessage(response: Response): Promise<string> {
  const text = await response.text().catch(() => "");
  try {
    const json = JSON.parse(text);
    if (json && typeof json === "object" && !Array.isArray(json)) {
      return String(json.message ?? "");
    }
  } catch {
    // not JSON
  }
  return `Internal API error (${response.status})`;
}

async function jsonBody(response: Response, contentTypeError: string) {
  const type = (response.headers.get("Content-Type") ?? "").split(";")[0].trim().toLowerCase();
  if (type !== "application/json") {
    await response.body?.cancel();
    throw new GitlabApiError(`${contentTypeError}: ${type}`);
  }
  try {
    return await response.json();
  } catch (error) {
    throw new GitlabApiError(`decoding response: ${(error as Error).message}`);
  }
}

async function readCaCerts(settings: GitlabSettings["httpSettings"]): Promise<string[]> {
  const certs: string[] = [];
  if (settings.caFile) {
    try {
      certs.push(await Deno.readTextFile(settings.caFile));
    } catch {
      throw new GitlabApiError(`cannot find cafile '${settings.caFile}': cafile not found`);
    }
  }
  if (settings.caPath) {
    try {
      for await (const entry of Deno.readDir(settings.caPath)) {
        if (entry.isDirectory) continue;
        const text = await Deno.readTextFile(join(settings.caPath, entry.name)).catch(() => "");
        if (text.includes("-----BEGIN CERTIFICATE-----")) certs.push(text);
      }
    } catch {
      // An unreadable CA directory adds nothing, as with gitlab-shell.
    }
  }
  return certs;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
  });
}
