import { assert, assertEquals } from "../helpers/assert.ts";
import { bidiStream, defineService, type Rpc, serverStream, unary } from "../../src/server/rpc.ts";
import { serviceInfo } from "../../src/proto/mod.ts";
import { healthService, HealthState } from "../../src/service/health/mod.ts";
import { gitalyImplementations } from "../../src/service/registry.ts";
import type { ServiceDeps } from "../../src/service/deps.ts";
import type {
  Init,
  RepositoryExistsRequest,
  RepositoryExistsResponse,
} from "../../src/proto/types.ts";

/** A correct `RepositoryExists` handler, its types inferred from the annotation. */
const repositoryExists = (): Rpc<"gitaly.RepositoryService", "RepositoryExists"> =>
  unary((req) => Promise.resolve({ exists: req.repository?.relative_path !== "" }));

/** A correct `GetConfig` handler. */
const getConfig = (): Rpc<"gitaly.RepositoryService", "GetConfig"> =>
  serverStream((_req, _ctx, send) => send({ data: new Uint8Array([1]) }));

/**
 * Never run, only type-checked: every `@ts-expect-error` below must be a
 * real error, or `deno check` fails on the unused directive.
 */
function typeErrors(): void {
  const exists = repositoryExists();

  // A method name the proto does not have (misspelt) is an excess property.
  defineService("gitaly.RepositoryService", {
    // @ts-expect-error: RepositoryExits is not a RepositoryService method.
    RepositoryExits: exists,
  });

  // A server-streaming handler under a unary method.
  defineService("gitaly.RepositoryService", {
    // @ts-expect-error: RepositoryExists is unary.
    RepositoryExists: serverStream<RepositoryExistsRequest, Init<RepositoryExistsResponse>>(
      (_req, _ctx, send) => send({ exists: true }),
    ),
  });

  // A handler answering another method's response type.
  defineService("gitaly.RepositoryService", {
    // @ts-expect-error: `branch` is no field of RepositoryExistsResponse.
    RepositoryExists: unary(() => Promise.resolve({ branch: { name: new Uint8Array() } })),
  });

  // A unary handler under a bidi-streaming method.
  defineService("gitaly.SSHService", {
    // @ts-expect-error: SSHUploadPack streams both ways.
    SSHUploadPack: exists,
  });

  // A service that does not exist.
  // @ts-expect-error: there is no gitaly.RepoService.
  defineService("gitaly.RepoService", {});

  // The factory annotation types the request and the response.
  const _wrongResponse = (): Rpc<"gitaly.RepositoryService", "RepositoryExists"> =>
    // @ts-expect-error: the response must be a RepositoryExistsResponse.
    unary(() => Promise.resolve({ size: 1 }));
  const _wrongRequest = (): Rpc<"gitaly.RepositoryService", "RepositoryExists"> =>
    unary((req) => {
      // @ts-expect-error: RepositoryExistsRequest has no `revision`.
      void req.revision;
      return Promise.resolve({});
    });

  // Correct: inferred from the annotation, no directive.
  const sshUploadPack = (): Rpc<"gitaly.SSHService", "SSHUploadPack"> =>
    bidiStream(async (requests, _ctx, send) => {
      for await (const request of requests) await send({ stdout: request.stdin });
    });
  defineService("gitaly.RepositoryService", {
    RepositoryExists: repositoryExists(),
    GetConfig: getConfig(),
  });
  defineService("gitaly.SSHService", { SSHUploadPack: sshUploadPack() });
}

Deno.test("defineService: the type errors above are compile-time only", () => {
  assertEquals(typeof typeErrors, "function");
});

Deno.test("defineService: returns the service name and the very handler table", () => {
  const exists = repositoryExists();
  const config = getConfig();
  const impl = defineService("gitaly.RepositoryService", {
    RepositoryExists: exists,
    GetConfig: config,
  });
  assertEquals(impl.service, "gitaly.RepositoryService");
  assertEquals(Object.keys(impl.handlers).sort(), ["GetConfig", "RepositoryExists"]);
  assert(impl.handlers.RepositoryExists === exists);
  assert(impl.handlers.GetConfig === config);
  assertEquals(impl.handlers.RepositoryExists.kind, "unary");
  assertEquals(impl.handlers.GetConfig.kind, "server_stream");
});

Deno.test("every service: each handler has its proto method's streaming kind", () => {
  // The factories only capture deps; nothing runs until a call arrives.
  const impls = [...gitalyImplementations({} as ServiceDeps).values()];
  impls.push(healthService(new HealthState(), []));
  const kinds: Record<string, string> = {};
  for (const impl of impls) {
    const methods = new Map(serviceInfo(impl.service).methods.map((m) => [m.name, m]));
    for (const [name, handler] of Object.entries(impl.handlers)) {
      const method = methods.get(name);
      assert(method, `${impl.service}/${name} is no proto method`);
      const expected = method.requestStream
        ? method.responseStream ? "bidi_stream" : "client_stream"
        : method.responseStream
        ? "server_stream"
        : "unary";
      kinds[`${impl.service}/${name}`] = handler.kind;
      assertEquals(handler.kind, expected, `${impl.service}/${name}`);
    }
  }
  assertEquals(kinds["gitaly.RepositoryService/BackupCustomHooks"], "server_stream");
  assertEquals(kinds["gitaly.SSHService/SSHUploadPackWithSidechannel"], "unary");
  assertEquals(kinds["grpc.health.v1.Health/Watch"], "server_stream");
});
