/**
 * Every export of the client library called with its minimal arguments:
 * option arguments are optional wherever Go's are (variadic options, nil
 * dial options), so leaving them out must never throw a TypeError.
 */
import * as client from "../../src/client/mod.ts";
import {
  authorizationHeader,
  callCredentialsV2,
  clientNameMetadata,
  correlationIdMetadata,
  defaultDialer,
  describeError,
  dial,
  dialContext,
  dialSidechannel,
  dialSidechannelContext,
  failOnNonTempDialError,
  featureFlagMetadata,
  featureFlagMetadataKey,
  formatFeatureFlagList,
  healthCheck,
  healthCheckDialer,
  isCallError,
  lowerCamel,
  newCorrelationId,
  outgoingMetadata,
  parseAddress,
  parseFeatureFlagList,
  parseProtoJson,
  Pool,
  postUploadPackWithSidechannel,
  receivePack,
  repositoryService,
  rpcCredentialsV2,
  serverService,
  serviceClient,
  ServingStatus,
  servingStatusName,
  SidechannelRegistry,
  signTokenV2,
  sshService,
  statusCodeName,
  toGrpcMetadata,
  toProtoJson,
  transportCredentials,
  uploadArchive,
  uploadPack,
  uploadPackWithSidechannel,
  uploadPackWithSidechannelWithResult,
  waitForReady,
} from "../../src/client/mod.ts";
import { messageType } from "../../src/proto/root.ts";
import { assert, assertEquals } from "../helpers/assert.ts";
import { startTestServer } from "../helpers/server.ts";

/** Settles `work`; a rejection is fine (the server may refuse an empty request), a TypeError is not. */
async function settles(name: string, work: () => unknown): Promise<void> {
  try {
    await work();
  } catch (error) {
    assert(!(error instanceof TypeError), `${name}: ${(error as Error).stack}`);
    assert(isCallError(error), `${name}: expected a call error, got ${error}`);
  }
}

Deno.test("client exports work with their minimal arguments", async () => {
  const server = await startTestServer();
  const address = server.unixAddress;
  const closers: { close(): unknown }[] = [];
  const keep = <T extends { close(): unknown }>(conn: T) => (closers.push(conn), conn);
  try {
    // Connecting.
    const conn = keep(dial(address));
    assertEquals(parseAddress(address).scheme, "unix");
    assert(transportCredentials(parseAddress(address)));
    await waitForReady(conn, address);
    keep(await dialContext(address));
    assertEquals(failOnNonTempDialError().failOnNonTempDialError, true);

    // Credentials and metadata.
    assert(signTokenV2("secret").startsWith("v2."));
    assert(authorizationHeader("secret").startsWith("Bearer v2."));
    assert(rpcCredentialsV2("secret"));
    assert(callCredentialsV2("secret"));
    assertEquals(clientNameMetadata("me"), { client_name: "me" });
    assert(correlationIdMetadata(newCorrelationId())["x-gitlab-correlation-id"]);
    assertEquals(outgoingMetadata({}), {});
    assertEquals(toGrpcMetadata({}).getMap(), {});
    assertEquals(featureFlagMetadata({}), {});
    assertEquals(featureFlagMetadataKey("a_b"), "gitaly-feature-a-b");
    assertEquals(formatFeatureFlagList({}), "");
    assertEquals(parseFeatureFlagList(""), {});
    assertEquals(describeError(new Error("x")), "x");
    assertEquals(statusCodeName(0), "OK");

    // Pools and health: Go's dialers take their options variadically.
    keep(await defaultDialer(address));
    keep(await healthCheckDialer(defaultDialer)(address));
    const pool = new Pool();
    assertEquals(await healthCheck(await pool.dial(address)), ServingStatus.SERVING);
    await pool.close();
    assertEquals(servingStatusName(ServingStatus.SERVING), "SERVING");

    // Typed clients: call options are optional, for every streaming kind.
    assertEquals(lowerCamel("SSHUploadPack"), "sshUploadPack");
    await settles("unary", () => serverService(conn).serverInfo({}));
    await settles(
      "serviceClient",
      () => serviceClient("gitaly.ServerService", conn).serverInfo({}),
    );
    await settles("server stream", async () => {
      for await (const _ of repositoryService(conn).getConfig({})) { /* drain */ }
    });
    await settles("client stream", () => {
      const call = repositoryService(conn).objectsSize();
      call.end();
      return call.response;
    });
    await settles("bidi stream", async () => {
      const call = sshService(conn).sshUploadPack();
      call.end();
      for await (const _ of call) { /* drain */ }
    });

    // Sidechannels and transfers: the options argument is optional, `io` may be empty.
    const registry = new SidechannelRegistry();
    const multiplexed = keep(dialSidechannel(address, registry));
    keep(await dialSidechannelContext(address, registry));
    await settles("uploadPack", () => uploadPack(conn, {}, {}));
    await settles("receivePack", () => receivePack(conn, {}, {}));
    await settles("uploadArchive", () => uploadArchive(conn, {}, {}));
    await settles(
      "uploadPackWithSidechannel",
      () => uploadPackWithSidechannel(multiplexed, registry, {}, {}),
    );
    await settles(
      "uploadPackWithSidechannelWithResult",
      () => uploadPackWithSidechannelWithResult(multiplexed, registry, {}, {}),
    );
    await settles(
      "postUploadPackWithSidechannel",
      () =>
        postUploadPackWithSidechannel(multiplexed, registry, {}, {
          body: new ReadableStream({ start: (c) => c.close() }),
          response: () => Promise.resolve(),
        }),
    );

    // Messages.
    const type = messageType("gitaly.Repository");
    assertEquals(toProtoJson(type, {}), {});
    assert(parseProtoJson(type, "{}"));
    assert(client.proto);
  } finally {
    for (const conn of closers) conn.close();
    await server.stop();
  }
});
