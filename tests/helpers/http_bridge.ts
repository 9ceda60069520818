/**
 * A test-only Smart HTTP front end (what GitLab Workhorse does in
 * production): `GET /<repo>/info/refs?service=…` maps to
 * `InfoRefsUploadPack`/`InfoRefsReceivePack`, `POST /<repo>/git-receive-pack`
 * to `PostReceivePack`, and `POST /<repo>/git-upload-pack` to
 * `SSHUploadPack` (the sidechannel RPC is not there yet: the session's
 * advertisement is dropped, which is enough for single-round fetches such
 * as clones and for every protocol v2 command).
 *
 * @module
 */
import * as grpc from "@grpc/grpc-js";
import { grpcServiceDefinition } from "../../src/proto/mod.ts";
import { signV2Token } from "../../src/server/auth.ts";

/** Options of {@link startHttpBridge}. */
export interface HttpBridgeOptions {
  /** Gitaly address (`unix:/…` or `host:port`). */
  address: string;
  /** Storage of every repository (default `default`). */
  storage?: string;
  /** Pusher identity for receive-pack (default `user-1`). */
  glId?: string;
  glUsername?: string;
  glRepository?: string;
  /** `git_config_options` sent with every RPC. */
  gitConfigOptions?: string[];
  token?: string;
  /** Calls go through this client instead of a plain one (e.g. a backchannel voter's). */
  client?: grpc.Client;
  /** Extra metadata for every call, asked for per call (e.g. a transaction). */
  metadata?: () => Record<string, string>;
}

/** A running bridge. */
export interface HttpBridge {
  /** `http://127.0.0.1:port`; append the repository's relative path. */
  url: string;
  close(): Promise<void>;
}

type AnyMessage = Record<string, unknown>;

/** Starts the bridge on a free local port. */
export function startHttpBridge(options: HttpBridgeOptions): Promise<HttpBridge> {
  const client = options.client ?? new grpc.Client(
    options.address.replace(/^tcp:\/\//, ""),
    grpc.credentials.createInsecure(),
    { "grpc-node.flow_control_window": 16 * 1024 * 1024 },
  );
  const router = new Router(client, options);
  return new Promise((resolve) => {
    const server = Deno.serve({
      hostname: "127.0.0.1",
      port: 0,
      onListen: ({ port }) =>
        resolve({
          url: `http://127.0.0.1:${port}`,
          close: async () => {
            await server.shutdown();
            client.close();
          },
        }),
    }, (request) => router.handle(request));
  });
}

class Router {
  constructor(readonly client: grpc.Client, readonly options: HttpBridgeOptions) {}

  async handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const route = /^\/(.+?)\/(info\/refs|git-upload-pack|git-receive-pack)$/.exec(url.pathname);
    if (!route) return new Response("not found\n", { status: 404 });
    const [, relativePath, action] = route;
    const repository = {
      storage_name: this.options.storage ?? "default",
      relative_path: relativePath,
      gl_repository: this.options.glRepository ?? "",
    };
    const gitProtocol = request.headers.get("git-protocol") ?? "";
    const common = {
      repository,
      git_protocol: gitProtocol,
      git_config_options: this.options.gitConfigOptions ?? [],
    };
    try {
      if (action === "info/refs") {
        const service = url.searchParams.get("service");
        if (service !== "git-upload-pack" && service !== "git-receive-pack") {
          return new Response("dumb HTTP is not supported\n", { status: 403 });
        }
        const method = service === "git-upload-pack" ? "InfoRefsUploadPack" : "InfoRefsReceivePack";
        const call = this.#serverStream("gitaly.SmartHTTPService", method, common);
        return await respond(call, (m) => m.data, `application/x-${service}-advertisement`);
      }
      const body = requestBody(request);
      if (action === "git-receive-pack") {
        const call = this.#bidi(
          "gitaly.SmartHTTPService",
          "PostReceivePack",
          {
            ...common,
            gl_id: this.options.glId ?? "user-1",
            gl_username: this.options.glUsername ?? "",
            gl_repository: this.options.glRepository ?? "",
          },
          body,
          (data) => ({ data }),
        );
        return await respond(call, (m) => m.data, "application/x-git-receive-pack-result");
      }
      const call = this.#bidi("gitaly.SSHService", "SSHUploadPack", common, body, (stdin) => ({
        stdin,
      }));
      const stdout = responseStream(call, (m) => m.stdout).pipeThrough(dropAdvertisement());
      return new Response(stdout, {
        headers: { "content-type": "application/x-git-upload-pack-result" },
      });
    } catch (error) {
      return errorResponse(error);
    }
  }

  #metadata(): grpc.Metadata {
    const metadata = new grpc.Metadata();
    if (this.options.token) {
      metadata.set("authorization", `Bearer ${signV2Token(this.options.token)}`);
    }
    for (const [key, value] of Object.entries(this.options.metadata?.() ?? {})) {
      metadata.set(key, value);
    }
    return metadata;
  }

  #serverStream(service: string, method: string, request: AnyMessage) {
    const definition = grpcServiceDefinition(service)[method];
    return this.client.makeServerStreamRequest(
      definition.path,
      definition.requestSerialize,
      definition.responseDeserialize,
      request,
      this.#metadata(),
    );
  }

  #bidi(
    service: string,
    method: string,
    first: AnyMessage,
    body: ReadableStream<Uint8Array>,
    wrap: (chunk: Uint8Array) => AnyMessage,
  ) {
    const definition = grpcServiceDefinition(service)[method];
    const call = this.client.makeBidiStreamRequest(
      definition.path,
      definition.requestSerialize,
      definition.responseDeserialize,
      this.#metadata(),
    );
    call.write(first);
    pumpBody(body, call, wrap);
    return call;
  }
}

/** Copies the HTTP body into the call, waiting for `drain`, then half-closes. */
async function pumpBody(
  body: ReadableStream<Uint8Array>,
  call: grpc.ClientDuplexStream<unknown, unknown>,
  wrap: (chunk: Uint8Array) => AnyMessage,
): Promise<void> {
  try {
    for await (const chunk of body) {
      if (!call.write(wrap(chunk))) await new Promise((resolve) => call.once("drain", resolve));
    }
    call.end();
  } catch {
    call.cancel();
  }
}

/** The request body, gunzipped when git compressed it. */
function requestBody(request: Request): ReadableStream<Uint8Array> {
  const body = request.body ?? new ReadableStream({ start: (c) => c.close() });
  if (request.headers.get("content-encoding") === "gzip") {
    return body.pipeThrough(new DecompressionStream("gzip"));
  }
  return body;
}

type ResponseCall = AsyncIterable<unknown> & { cancel(): void };

/**
 * Waits for the first message (so an RPC error becomes an HTTP error
 * status), then streams the picked field of every message as the body.
 */
async function respond(
  call: ResponseCall,
  pick: (message: AnyMessage) => unknown,
  contentType: string,
): Promise<Response> {
  const iterator = call[Symbol.asyncIterator]();
  const first = await iterator.next();
  const stream = responseStream(call, pick, iterator, first);
  return new Response(stream, { headers: { "content-type": contentType } });
}

/** A pull-based byte stream of one field of the call's responses. */
function responseStream(
  call: ResponseCall,
  pick: (message: AnyMessage) => unknown,
  iterator: AsyncIterator<unknown> = call[Symbol.asyncIterator](),
  first?: IteratorResult<unknown>,
): ReadableStream<Uint8Array> {
  let pending = first;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      while (true) {
        const next = pending ?? await iterator.next();
        pending = undefined;
        if (next.done) {
          controller.close();
          return;
        }
        const data = pick(next.value as AnyMessage) as Uint8Array | undefined;
        if (data && data.length > 0) {
          controller.enqueue(new Uint8Array(data));
          return;
        }
      }
    },
    cancel() {
      call.cancel();
    },
  }, { highWaterMark: 0 });
}

/** Drops everything up to and including the first flush packet. */
function dropAdvertisement(): TransformStream<Uint8Array, Uint8Array> {
  let header = new Uint8Array(0);
  let passing = false;
  return new TransformStream({
    transform(chunk, controller) {
      if (passing) {
        controller.enqueue(chunk);
        return;
      }
      const joined = new Uint8Array(header.byteLength + chunk.byteLength);
      joined.set(header);
      joined.set(chunk, header.byteLength);
      let offset = 0;
      while (offset + 4 <= joined.byteLength) {
        const length = parseInt(new TextDecoder().decode(joined.subarray(offset, offset + 4)), 16);
        if (length === 0) {
          passing = true;
          if (offset + 4 < joined.byteLength) controller.enqueue(joined.subarray(offset + 4));
          return;
        }
        if (offset + length > joined.byteLength) break;
        offset += length;
      }
      header = joined.subarray(offset);
    },
  });
}

function errorResponse(error: unknown): Response {
  const status = (error as grpc.ServiceError).code === grpc.status.NOT_FOUND ? 404 : 500;
  const details = (error as grpc.ServiceError).details ?? String(error);
  return new Response(`${details}\n`, { status });
}
