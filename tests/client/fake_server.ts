/**
 * A tiny in-process grpc-js server speaking Gitaly's services with
 * handlers written by the test: for behaviour our real server does not
 * have (a health service that says NOT_SERVING, client-streaming RPCs).
 *
 * @module
 */
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { grpcServiceDefinition } from "../../src/proto/mod.ts";

/** A running fake server. */
export interface FakeServer {
  /** `unix:/…` address. */
  address: string;
  /** Stops the server and removes its socket directory. */
  close(): Promise<void>;
}

/** Serves `services` (full service name → grpc-js handlers) on a Unix socket in a temp dir. */
export async function startFakeServer(
  services: Record<string, grpc.UntypedServiceImplementation>,
): Promise<FakeServer> {
  const dir = await Deno.makeTempDir({ prefix: "fake-gitaly-" });
  const address = `unix:${join(dir, "fake.socket")}`;
  const server = new grpc.Server();
  for (const [name, handlers] of Object.entries(services)) {
    server.addService(grpcServiceDefinition(name), handlers);
  }
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(
      address,
      grpc.ServerCredentials.createInsecure(),
      (error) => error ? reject(error) : resolve(),
    )
  );
  return {
    address,
    close: async () => {
      server.forceShutdown();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

/** Health handlers that always answer `status` (a ServingStatus value). */
export function fixedHealth(status: number): grpc.UntypedServiceImplementation {
  return {
    Check: (_call: unknown, callback: grpc.sendUnaryData<unknown>) => callback(null, { status }),
  };
}

type Json = Record<string, unknown>;
type Revisions = { revisions: Uint8Array[] };

/**
 * One method of each streaming kind, with behaviour tests can predict:
 * - `RepositoryService/RepositoryExists` (unary): exists when the relative
 *   path ends in `.git`; a path `hang` never answers;
 * - `RepositoryService/GetConfig` (server streaming): `relative_path` `n`
 *   gives n chunks `chunk i`; `forever` streams until cancelled;
 * - `RepositoryService/ObjectsSize` (client streaming): the total length of
 *   all revisions sent;
 * - `CommitService/CheckObjectsExist` (bidi): one response per request,
 *   revisions starting with `yes` exist.
 */
export function fakeGitalyServices(): Record<string, grpc.UntypedServiceImplementation> {
  const encoder = new TextEncoder();
  return {
    "gitaly.RepositoryService": {
      RepositoryExists(call: grpc.ServerUnaryCall<Json, Json>, done: grpc.sendUnaryData<Json>) {
        const path = (call.request.repository as Json | null)?.relative_path as string;
        if (path === "hang") return;
        done(null, { exists: path.endsWith(".git") });
      },
      async GetConfig(call: grpc.ServerWritableStream<Json, Json>) {
        const path = (call.request.repository as Json | null)?.relative_path as string;
        const count = path === "forever" ? Infinity : Number(path);
        for (let i = 0; i < count && !call.cancelled; i++) {
          if (!call.write({ data: encoder.encode(`chunk ${i}`) })) {
            await new Promise((resolve) => call.once("drain", resolve));
          }
        }
        call.end();
      },
      ObjectsSize(
        call: grpc.ServerReadableStream<Revisions, Json>,
        done: grpc.sendUnaryData<Json>,
      ) {
        let size = 0;
        call.on("data", (request: Revisions) => {
          for (const revision of request.revisions) size += revision.byteLength;
        });
        call.on("end", () => done(null, { size }));
      },
    },
    "gitaly.CommitService": {
      CheckObjectsExist(call: grpc.ServerDuplexStream<Revisions, Json>) {
        call.on("data", (request: Revisions) => {
          call.write({
            revisions: request.revisions.map((name) => ({
              name,
              exists: new TextDecoder().decode(name).startsWith("yes"),
            })),
          });
        });
        call.on("end", () => call.end());
      },
    },
  };
}
