/**
 * A test double of GitLab's internal API (`/api/v4/internal/...`) on a
 * temp Unix socket or a loopback port: answers `/allowed`,
 * `/pre_receive`, `/post_receive` and `/check` as GitLab documents them,
 * refuses requests whose `Gitlab-Shell-Api-Request` JWT is not signed
 * with its secret (HS256, issuer `gitlab-shell`, not expired), and
 * records every request.
 *
 * @module
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { join } from "node:path";

/** One request the double received. */
export interface RecordedRequest {
  method: string;
  /** The path after `/api/v4/internal`, e.g. `/allowed`. */
  endpoint: string;
  /** The full request path. */
  path: string;
  headers: Record<string, string>;
  body: Record<string, unknown> | undefined;
}

/** How the double answers; change it between pushes. */
export interface DoubleBehaviour {
  /** `/allowed`: allow (default), or deny with GitLab's message. */
  allowed: { allow: true } | { allow: false; message: string; status?: number };
  /** `/post_receive`'s messages. */
  postReceiveMessages: { type: "basic" | "alert"; message: string }[];
  /** `/pre_receive`'s `reference_counter_increased`. */
  referenceCounterIncreased: boolean;
  /** Answer this many next requests with `500 {"message":"boom"}`. */
  failNext: number;
  /** Answer with this content type instead of JSON. */
  contentType?: string;
}

/** A running double. */
export interface GitlabDouble {
  /** `http+unix://…` or `http://127.0.0.1:PORT`. */
  url: string;
  /** A file holding the secret (with a trailing newline, as GitLab writes it). */
  secretFile: string;
  secret: string;
  dir: string;
  behaviour: DoubleBehaviour;
  requests: RecordedRequest[];
  /** `[gitlab]` TOML for our server's config. */
  toml(): string;
  /** Requests to `endpoint`, oldest first. */
  seen(endpoint: string): RecordedRequest[];
  close(): Promise<void>;
}

/** Options of {@link startGitlabDouble}. */
export interface GitlabDoubleOptions {
  /** Listen on loopback TCP instead of a Unix socket. */
  tcp?: boolean;
  /** Listen on loopback TCP with TLS (PEM files); the URL is `https://localhost:PORT`. */
  tls?: { certificatePath: string; keyPath: string };
  secret?: string;
}

/** Starts a double in a temp dir of its own. */
export async function startGitlabDouble(options: GitlabDoubleOptions = {}): Promise<GitlabDouble> {
  const dir = await Deno.makeTempDir({ prefix: "gitlab-double-" });
  const secret = options.secret ?? "a-shared-secret-0123456789";
  const secretFile = join(dir, ".gitlab_shell_secret");
  await Deno.writeTextFile(secretFile, `${secret}\n`);
  const requests: RecordedRequest[] = [];
  const behaviour: DoubleBehaviour = {
    allowed: { allow: true },
    postReceiveMessages: [],
    referenceCounterIncreased: true,
    failNext: 0,
  };
  const handler = async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    const text = await request.text();
    let body: Record<string, unknown> | undefined;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }
    const endpoint = url.pathname.replace(/^.*\/api\/v4\/internal/, "");
    requests.push({
      method: request.method,
      endpoint,
      path: url.pathname,
      headers: Object.fromEntries(request.headers),
      body,
    });
    const json = (status: number, body: unknown) => reply(status, body, behaviour.contentType);
    if (!validToken(request.headers.get("Gitlab-Shell-Api-Request"), secret)) {
      return json(401, { message: "401 Unauthorized" });
    }
    if (behaviour.failNext > 0) {
      behaviour.failNext--;
      return json(500, { message: "boom" });
    }
    switch (`${request.method} ${endpoint}`) {
      case "POST /allowed": {
        const verdict = behaviour.allowed;
        if (verdict.allow) return json(200, { status: true, gl_console_messages: [] });
        return json(verdict.status ?? 401, { status: false, message: verdict.message });
      }
      case "POST /pre_receive":
        return json(200, { reference_counter_increased: behaviour.referenceCounterIncreased });
      case "POST /post_receive":
        return json(200, {
          reference_counter_decreased: true,
          messages: behaviour.postReceiveMessages,
        });
      case "GET /check":
        return json(200, {
          api_version: "v4",
          gitlab_version: "16.7.0-double",
          gitlab_rev: "d0ub1e",
          redis: true,
        });
      default:
        return json(404, { message: "404 Not Found" });
    }
  };
  const controller = new AbortController();
  let url: string;
  let server: Deno.HttpServer;
  if (options.tls) {
    server = Deno.serve({
      hostname: "127.0.0.1",
      port: 0,
      cert: await Deno.readTextFile(options.tls.certificatePath),
      key: await Deno.readTextFile(options.tls.keyPath),
      signal: controller.signal,
      onListen() {},
    }, handler);
    url = `https://localhost:${(server.addr as Deno.NetAddr).port}`;
  } else if (options.tcp) {
    server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, signal: controller.signal, onListen() {} },
      handler,
    );
    url = `http://127.0.0.1:${(server.addr as Deno.NetAddr).port}`;
  } else {
    const path = join(dir, "gitlab.socket");
    server = Deno.serve({ path, signal: controller.signal, onListen() {} }, handler);
    url = `http+unix://${path}`;
  }
  return {
    url,
    secretFile,
    secret,
    dir,
    behaviour,
    requests,
    toml: () =>
      `[gitlab]\nurl = ${JSON.stringify(url)}\nsecret_file = ${JSON.stringify(secretFile)}\n`,
    seen: (endpoint) => requests.filter((r) => r.endpoint === endpoint),
    close: async () => {
      controller.abort();
      await server.finished;
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

function reply(status: number, body: unknown, contentType = "application/json"): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": contentType } });
}

/** Whether `token` is an HS256 JWT from gitlab-shell, signed with `secret` and not expired. */
export function validToken(token: string | null, secret: string): boolean {
  if (!token) return false;
  const parts = token.split(".");
  if (parts.length !== 3) return false;
  const decode = (part: string) => JSON.parse(atob(part.replaceAll("-", "+").replaceAll("_", "/")));
  try {
    const header = decode(parts[0]);
    const claims = decode(parts[1]);
    if (header.alg !== "HS256" || claims.iss !== "gitlab-shell") return false;
    const now = Date.now() / 1000;
    if (typeof claims.exp !== "number" || claims.exp < now) return false;
    if (typeof claims.iat !== "number" || claims.iat > now + 5) return false;
    const expected = createHmac("sha256", secret.trim()).update(`${parts[0]}.${parts[1]}`)
      .digest();
    const given = Uint8Array.from(
      atob(parts[2].replaceAll("-", "+").replaceAll("_", "/")),
      (c) => c.charCodeAt(0),
    );
    return given.length === expected.length && timingSafeEqual(given, expected);
  } catch {
    return false;
  }
}

/**
 * A recorded request as tests compare them across servers: method,
 * endpoint and body, with the server-specific parts normalized (the
 * absolute `project` path to `<storage>/<name>`, a quarantine
 * directory's random suffix to `-<random>`).
 */
export function normalizedRequest(request: RecordedRequest): unknown {
  const body = { ...request.body };
  if (typeof body.project === "string") {
    if (!body.project.startsWith("/")) throw new Error(`relative project path: ${body.project}`);
    body.project = body.project.replace(/^.*\/([^/]+)$/, "<storage>/$1");
  }
  if (typeof body.env === "string") {
    const env = JSON.parse(body.env);
    env.GIT_OBJECT_DIRECTORY_RELATIVE = String(env.GIT_OBJECT_DIRECTORY_RELATIVE)
      .replace(/-[A-Za-z0-9]+$/, "-<random>");
    body.env = env;
  }
  return { method: request.method, endpoint: request.endpoint, body };
}
