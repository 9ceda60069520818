/**
 * The client library's dialing against the real server: every address
 * scheme (TLS with a test CA), waiting with deadlines and signals, failing
 * fast, token auth and request metadata.
 */
import { relative } from "node:path";
import * as grpc from "@grpc/grpc-js";
import {
  AddressError,
  callCredentialsV2,
  Code,
  correlationIdMetadata,
  dial,
  dialContext,
  DialError,
  healthCheck,
  KEEPALIVE_TIME_MS,
  KEEPALIVE_TIMEOUT_MS,
  outgoingMetadata,
  parseAddress,
  repositoryService,
  rpcCredentialsV2,
  ServingStatus,
  transportCredentials,
} from "../../src/client/mod.ts";
import { assert, assertEquals, assertMatch, assertRejects } from "../helpers/assert.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { haveOpenssl, makeTestCertificates } from "../helpers/tls.ts";

const TOKEN = "connect-secret";
const OPENSSL = await haveOpenssl();

/** One server (with TLS when openssl is there) for a test. */
async function withServer(body: (server: TestServer, ca?: Uint8Array) => Promise<void>) {
  const certDir = await Deno.makeTempDir({ prefix: "client-tls-" });
  try {
    const certs = OPENSSL ? await makeTestCertificates(certDir) : undefined;
    const server = await startTestServer({ token: TOKEN, tls: certs });
    try {
      await body(server, certs ? await Deno.readFile(certs.caPath) : undefined);
    } finally {
      await server.stop();
    }
  } finally {
    await Deno.remove(certDir, { recursive: true });
  }
}

/** Dials `address`, waits for the connection and checks health through it. */
async function reachable(address: string, caCertificates?: Uint8Array): Promise<void> {
  const conn = await dialContext(address, {
    token: TOKEN,
    caCertificates,
    failOnNonTempDialError: true,
    deadline: Date.now() + 10_000,
  });
  try {
    assertEquals(await healthCheck(conn), ServingStatus.SERVING, address);
  } finally {
    conn.close();
  }
}

Deno.test("dial: every address scheme reaches the server", async () => {
  await withServer(async (server, ca) => {
    const port = server.tcpAddress.split(":")[1];
    const addresses = [
      server.unixAddress,
      `unix://${server.socketPath}`,
      `unix:${relative(Deno.cwd(), server.socketPath)}`,
      `tcp://${server.tcpAddress}`,
      `tcp://localhost:${port}`,
      `dns:///${server.tcpAddress}`,
      `dns:///localhost:${port}`,
    ];
    for (const address of addresses) await reachable(address);
    if (!ca) {
      console.warn("connect_test: openssl missing; tls:// not tested");
      return;
    }
    const tlsPort = server.tlsAddress!.split(":")[1];
    await reachable(`tls://${server.tlsAddress}`, ca);
    await reachable(`tls://localhost:${tlsPort}`, ca);
    // Without the test CA the server's certificate is not trusted.
    const untrusted = await assertRejects(
      dialContext(`tls://localhost:${tlsPort}`, { failOnNonTempDialError: true }),
      DialError,
    );
    assertEquals((untrusted as DialError).code, Code.UNAVAILABLE);
  });
});

Deno.test("dial: an unknown scheme or a malformed address fails at once", async () => {
  for (const address of ["", "foo://host:1", "127.0.0.1:9999", "tcp://host:1/path", "unix:"]) {
    let thrown: unknown;
    try {
      dial(address);
    } catch (error) {
      thrown = error;
    }
    assert(thrown instanceof AddressError, `dial(${JSON.stringify(address)}) should throw`);
    await assertRejects(dialContext(address), AddressError);
  }
  await assertRejects(
    dialContext("foo://host:1"),
    /invalid connection string: "foo:\/\/host:1"/,
  );
});

Deno.test("dialContext: a deadline or an abort ends the wait for a server that is not there", async () => {
  // Port 1 refuses connections: without fail-fast, the client keeps retrying.
  const late = await assertRejects(
    dialContext("tcp://127.0.0.1:1", { deadline: Date.now() + 300 }),
    DialError,
  );
  assertEquals((late as DialError).code, Code.DEADLINE_EXCEEDED);
  const past = await assertRejects(
    dialContext("tcp://127.0.0.1:1", { deadline: new Date(Date.now() - 1) }),
    DialError,
  );
  assertEquals((past as DialError).code, Code.DEADLINE_EXCEEDED);

  const reason = new Error("stop waiting");
  await assertRejects(
    dialContext("tcp://127.0.0.1:1", { signal: AbortSignal.abort(reason) }),
    /stop waiting/,
  );
  const controller = new AbortController();
  const waiting = dialContext("tcp://127.0.0.1:1", { signal: controller.signal });
  controller.abort(reason);
  await assertRejects(waiting, /stop waiting/);
});

Deno.test("dialContext: failOnNonTempDialError rejects when nothing listens", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const missing = await assertRejects(
      dialContext(`unix:${dir}/none.socket`, { failOnNonTempDialError: true }),
      DialError,
    );
    assertEquals((missing as DialError).code, Code.UNAVAILABLE);
    assertMatch((missing as DialError).message, /ENOENT/);
    await assertRejects(
      dialContext("tcp://127.0.0.1:1", { failOnNonTempDialError: true }),
      /ECONNREFUSED/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("dial: keepalive is Gitaly's 20 s / 10 s", () => {
  assertEquals([KEEPALIVE_TIME_MS, KEEPALIVE_TIMEOUT_MS], [20_000, 10_000]);
});

Deno.test("auth: a wrong token is PermissionDenied, none is Unauthenticated", async () => {
  await withServer(async (server, ca) => {
    const repository = { storage_name: "default", relative_path: "x.git" };
    const call = async (conn: ReturnType<typeof dial>) => {
      try {
        return await repositoryService(conn).repositoryExists({ repository });
      } finally {
        conn.close();
      }
    };
    const wrong = await assertRejects(call(dial(server.unixAddress, { token: "nope" })));
    assertEquals((wrong as { code: number }).code, Code.PERMISSION_DENIED);
    const none = await assertRejects(call(dial(server.unixAddress)));
    assertEquals((none as { code: number }).code, Code.UNAUTHENTICATED);

    // The same secret, as an interceptor and (over TLS) as call credentials.
    const viaInterceptor = dial(server.unixAddress, { interceptors: [rpcCredentialsV2(TOKEN)] });
    assertEquals((await call(viaInterceptor)).exists, false);
    if (ca) {
      const address = `tls://localhost:${server.tlsAddress!.split(":")[1]}`;
      const credentials = grpc.credentials.combineChannelCredentials(
        transportCredentials(parseAddress(address), ca),
        callCredentialsV2(TOKEN),
      );
      assertEquals((await call(dial(address, { credentials }))).exists, false);
    }
  });
});

Deno.test("metadata: the client name and correlation id reach the server", async () => {
  await withServer(async (server) => {
    const conn = dial(server.unixAddress, {
      token: TOKEN,
      metadata: outgoingMetadata({ clientName: "client-test" }),
    });
    try {
      const repository = { storage_name: "default", relative_path: "x.git" };
      await repositoryService(conn).repositoryExists({ repository }, {
        metadata: correlationIdMetadata("corr-42"),
      });
    } finally {
      conn.close();
    }
    // The server logs the call after answering it: give the line a moment to arrive.
    const logged = () => server.stderr().split("\n").find((l) => l.includes("RepositoryExists"));
    for (let i = 0; i < 100 && !logged(); i++) await new Promise((r) => setTimeout(r, 50));
    const line = logged();
    assert(line, server.stderr());
    const fields = JSON.parse(line);
    assertEquals(fields.correlation_id, "corr-42");
    assertEquals(fields["grpc.meta.client_name"], "client-test");
  });
});
