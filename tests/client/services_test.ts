/**
 * Typed service clients: names agree between the types and the runtime,
 * and each call shape (unary, server, client and bidi streaming) works,
 * including cancellation, deadlines and backpressure.
 */
import { join } from "node:path";
import type * as grpc from "@grpc/grpc-js";
import { gitalyServices } from "../../src/proto/mod.ts";
import type { ServiceMethods } from "../../src/proto/types.ts";
import {
  Code,
  commitService,
  dial,
  lowerCamel,
  repositoryService,
  serviceClient,
  type ServiceName,
  sshService,
} from "../../src/client/mod.ts";
import { assert, assertEquals, assertRejects } from "../helpers/assert.ts";
import { fakeGitalyServices, type FakeServer, startFakeServer } from "./fake_server.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const SERVICES: ServiceName[] = [
  ...gitalyServices().map((s) => s.fullName as ServiceName),
  "grpc.health.v1.Health",
  "grpc.reflection.v1.ServerReflection",
  "grpc.reflection.v1alpha.ServerReflection",
];

async function withFake(body: (conn: grpc.Client) => Promise<void>): Promise<void> {
  const fake: FakeServer = await startFakeServer(fakeGitalyServices());
  const conn = dial(fake.address);
  try {
    await body(conn);
  } finally {
    conn.close();
    await fake.close();
  }
}

Deno.test("services: lowerCamelCase method names", () => {
  assertEquals(lowerCamel("RepositoryExists"), "repositoryExists");
  assertEquals(lowerCamel("SSHUploadPack"), "sshUploadPack");
  assertEquals(lowerCamel("SSHUploadPackWithSidechannel"), "sshUploadPackWithSidechannel");
  assertEquals(lowerCamel("PostUploadPackWithSidechannel"), "postUploadPackWithSidechannel");
  assertEquals(lowerCamel("Check"), "check");
});

Deno.test("services: a factory for every service, one method per RPC", () => {
  const conn = dial("unix:/nonexistent.socket");
  try {
    for (const name of SERVICES) {
      const client = serviceClient(name, conn) as Record<string, unknown>;
      assert(Object.keys(client).length > 0, name);
      for (const method of Object.values(client)) assertEquals(typeof method, "function");
    }
    const ssh = sshService(conn);
    assertEquals(typeof ssh.sshUploadPack, "function");
    assertEquals(typeof ssh.sshUploadPackWithSidechannel, "function");
  } finally {
    conn.close();
  }
});

Deno.test({
  name: "services: the method names of the types are exactly those of the runtime",
  async fn() {
    // A program that assigns the runtime names to Record<keyof Client, true>:
    // a missing or extra name is a type error.
    const conn = dial("unix:/nonexistent.socket");
    const lines = [
      `import type { ServiceClient, ServiceName } from ${
        JSON.stringify(moduleUrl("src/client/services.ts"))
      };`,
      // Every service of the generated tables is listed here, and nothing else.
      `export const all: Record<ServiceName, true> = { ${
        SERVICES.map((n) => `"${n}": true`).join(", ")
      } };`,
    ];
    SERVICES.forEach((name, i) => {
      const names = Object.keys(serviceClient(name, conn)).map((n) => `${n}: true`).join(", ");
      lines.push(
        `export const s${i}: Record<keyof ServiceClient<"${name}">, true> = { ${names} };`,
      );
    });
    conn.close();
    const dir = await Deno.makeTempDir();
    try {
      const file = join(dir, "names.ts");
      await Deno.writeTextFile(file, lines.join("\n") + "\n");
      await denoCheck(file);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("services: unary calls resolve, and honour deadlines and signals", async () => {
  await withFake(async (conn) => {
    const repo = repositoryService(conn);
    const repository = { storage_name: "default", relative_path: "a.git" };
    assertEquals((await repo.repositoryExists({ repository })).exists, true);
    const other = { repository: { ...repository, relative_path: "a" } };
    assertEquals((await repo.repositoryExists(other)).exists, false);

    const hang = { repository: { ...repository, relative_path: "hang" } };
    const late = await assertRejects(repo.repositoryExists(hang, { timeoutMs: 100 }));
    assertEquals((late as grpc.ServiceError).code, Code.DEADLINE_EXCEEDED);
    const controller = new AbortController();
    const waiting = repo.repositoryExists(hang, { signal: controller.signal });
    controller.abort();
    const cancelled = await assertRejects(waiting);
    assertEquals((cancelled as grpc.ServiceError).code, Code.CANCELLED);
  });
});

Deno.test("services: server streaming is an AsyncIterable; stopping early cancels", async () => {
  await withFake(async (conn) => {
    const repo = repositoryService(conn);
    const chunks: string[] = [];
    const stream = repo.getConfig({ repository: { relative_path: "3" } });
    for await (const response of stream) chunks.push(decoder.decode(response.data));
    assertEquals(chunks, ["chunk 0", "chunk 1", "chunk 2"]);

    let seen = 0;
    for await (const _ of repo.getConfig({ repository: { relative_path: "forever" } })) {
      if (++seen === 5) break; // ends the call
    }
    const controller = new AbortController();
    const aborted = repo.getConfig({ repository: { relative_path: "forever" } }, {
      signal: controller.signal,
    });
    const error = await assertRejects((async () => {
      for await (const _ of aborted) controller.abort();
    })());
    assertEquals((error as grpc.ServiceError).code, Code.CANCELLED);
  });
});

Deno.test("services: client streaming writes with backpressure and returns one response", async () => {
  await withFake(async (conn) => {
    const call = repositoryService(conn).objectsSize();
    const revision = new Uint8Array(256 * 1024);
    for (let i = 0; i < 64; i++) await call.write({ revisions: [revision] }); // 16 MiB
    call.end();
    assertEquals((await call.response).size, 64 * revision.byteLength);
    await assertRejects(call.write({ revisions: [] }));

    const all = repositoryService(conn).objectsSize();
    await all.writeAll([{ revisions: [encoder.encode("ab")] }, {
      revisions: [encoder.encode("c")],
    }]);
    assertEquals((await all.response).size, 3);
  });
});

Deno.test("services: bidi calls write and read concurrently", async () => {
  await withFake(async (conn) => {
    const call = commitService(conn).checkObjectsExist();
    const answers: string[] = [];
    const reading = (async () => {
      for await (const response of call) {
        for (const r of response.revisions) answers.push(`${decoder.decode(r.name)}=${r.exists}`);
      }
    })();
    await call.write({ revisions: [encoder.encode("yes-1"), encoder.encode("no-1")] });
    await call.write({ revisions: [encoder.encode("yes-2")] });
    call.end();
    await reading;
    assertEquals(answers, ["yes-1=true", "no-1=false", "yes-2=true"]);

    const cancelled = commitService(conn).checkObjectsExist();
    cancelled.cancel();
    const error = await assertRejects((async () => {
      for await (const _ of cancelled);
    })());
    assertEquals((error as grpc.ServiceError).code, Code.CANCELLED);
  });
});

Deno.test("services: requests and responses are typed", () => {
  // Compile-time only: these lines must type-check (or fail to, where marked).
  const typed = async (conn: grpc.Client) => {
    const repository = { storage_name: "default", relative_path: "a.git" };
    const exists: boolean = (await repositoryService(conn).repositoryExists({ repository })).exists;
    // @ts-expect-error: no such field
    await repositoryService(conn).repositoryExists({ repositry: repository });
    const stream: AsyncIterable<{ data: Uint8Array }> = repositoryService(conn).getConfig({
      repository,
    });
    const bidi = sshService(conn).sshUploadPack();
    await bidi.write({ repository, git_protocol: "version=2" });
    const size: Promise<{ size: number }> = repositoryService(conn).objectsSize().response;
    const health = serviceClient("grpc.health.v1.Health", conn).check({ service: "" });
    return [exists, stream, size, health];
  };
  assertEquals(typeof typed, "function");
  assertEquals(typeof ({} as ServiceMethods), "object");
});

function moduleUrl(path: string): string {
  return new URL(`../../${path}`, import.meta.url).href;
}

/** `deno check` with the repository's config; throws with the compiler's output on errors. */
export async function denoCheck(...files: string[]): Promise<void> {
  const config = new URL("../../deno.json", import.meta.url).pathname;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["check", "--quiet", "--config", config, ...files],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(
      `deno check failed:\n${decoder.decode(out.stderr)}${decoder.decode(out.stdout)}`,
    );
  }
}
