/**
 * A smart-HTTP git server for tests: `Deno.serve` in front of
 * `git http-backend` (CGI), serving every repository below a directory,
 * optionally behind Basic authentication.
 *
 * @module
 */

/** A running server. */
export interface HttpGitServer {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** Authorization headers seen so far (one per request). */
  authorizations: (string | null)[];
  close(): Promise<void>;
}

/** Options of {@link startHttpGitServer}. */
export interface HttpGitServerOptions {
  /** Require `Authorization: Basic base64(user:password)`. */
  basicAuth?: { user: string; password: string };
}

/** Serves the repositories below `root` over smart HTTP. */
export function startHttpGitServer(
  root: string,
  options: HttpGitServerOptions = {},
): HttpGitServer {
  const authorizations: (string | null)[] = [];
  const expected = options.basicAuth
    ? `Basic ${btoa(`${options.basicAuth.user}:${options.basicAuth.password}`)}`
    : undefined;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (request) => {
    authorizations.push(request.headers.get("authorization"));
    if (expected && request.headers.get("authorization") !== expected) {
      return new Response("unauthorized\n", {
        status: 401,
        headers: { "www-authenticate": 'Basic realm="test"' },
      });
    }
    return runBackend(root, request);
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    authorizations,
    close: () => server.shutdown(),
  };
}

/** Runs one CGI request through `git http-backend`. */
async function runBackend(root: string, request: Request): Promise<Response> {
  const url = new URL(request.url);
  const child = new Deno.Command("git", {
    args: ["http-backend"],
    env: {
      GIT_PROJECT_ROOT: root,
      GIT_HTTP_EXPORT_ALL: "1",
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_CONFIG_GLOBAL: "/dev/null",
      REQUEST_METHOD: request.method,
      PATH_INFO: decodeURIComponent(url.pathname),
      QUERY_STRING: url.search.replace(/^\?/, ""),
      CONTENT_TYPE: request.headers.get("content-type") ?? "",
      REMOTE_ADDR: "127.0.0.1",
      GIT_PROTOCOL: request.headers.get("git-protocol") ?? "",
      HTTP_CONTENT_ENCODING: request.headers.get("content-encoding") ?? "",
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    },
    clearEnv: true,
    stdin: "piped",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const feeding = request.body
    ? request.body.pipeTo(child.stdin).catch(() => {})
    : child.stdin.close().catch(() => {});
  const { status, headers, body } = await splitCgiOutput(child.stdout);
  feeding.then(() => child.status).catch(() => {});
  return new Response(body, { status, headers });
}

/** Reads the CGI header block, then hands over the rest of stdout as the body. */
async function splitCgiOutput(stdout: ReadableStream<Uint8Array>) {
  const reader = stdout.getReader();
  let buffered = new Uint8Array();
  let end = -1;
  while (end < 0) {
    const { value, done } = await reader.read();
    if (done) break;
    const joined = new Uint8Array(buffered.length + value.length);
    joined.set(buffered);
    joined.set(value, buffered.length);
    buffered = joined;
    end = headerEnd(buffered);
  }
  const headerText = new TextDecoder().decode(buffered.subarray(0, Math.max(end, 0)));
  const rest = end < 0 ? new Uint8Array() : buffered.subarray(end);
  const headers = new Headers();
  let status = 200;
  for (const line of headerText.split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (name.toLowerCase() === "status") status = Number(value.split(" ")[0]);
    else headers.append(name, value);
  }
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      if (rest.length) controller.enqueue(rest);
    },
    async pull(controller) {
      const { value, done } = await reader.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    cancel: (reason) => reader.cancel(reason),
  });
  return { status, headers, body };
}

/** Offset just past the blank line ending the headers, or -1. */
function headerEnd(bytes: Uint8Array): number {
  for (let i = 0; i + 1 < bytes.length; i++) {
    if (bytes[i] === 10 && bytes[i + 1] === 10) return i + 2;
    if (bytes[i] === 13 && bytes[i + 1] === 10 && bytes[i + 2] === 13 && bytes[i + 3] === 10) {
      return i + 4;
    }
  }
  return -1;
}
