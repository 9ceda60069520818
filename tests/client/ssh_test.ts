/**
 * The client side of the SSH-style RPCs against a fake in-process
 * SSHService: what the first request carries, how stdin is chunked, how
 * output and the exit status come back, and that the call ends with the
 * response stream even while stdin is still open.
 */
import * as grpc from "@grpc/grpc-js";
import { dial } from "../../src/client/dial.ts";
import { runSshCommand, STDIN_CHUNK_SIZE, type StreamIO } from "../../src/client/ssh.ts";
import { checkAuthorization } from "../../src/server/auth.ts";
import { grpcServiceDefinition } from "../../src/proto/mod.ts";
import { assert, assertEquals, assertRejects } from "../helpers/assert.ts";

interface Seen {
  first?: Record<string, unknown>;
  chunkSizes: number[];
  metadata?: grpc.Metadata;
}

interface Request {
  repository?: Record<string, unknown>;
  stdin: Uint8Array;
  git_protocol?: string;
}
type Call = grpc.ServerDuplexStream<Request, Record<string, unknown>>;
type Behaviour = (call: Call, seen: Seen) => void;

/** Starts a server whose SSHUploadPack runs `behaviour`; returns its address. */
async function fakeServer(behaviour: Behaviour) {
  const seen: Seen = { chunkSizes: [] };
  const server = new grpc.Server();
  const definition = grpcServiceDefinition("gitaly.SSHService");
  server.addService(definition, {
    SSHUploadPack: (call: Call) => {
      seen.metadata = call.metadata;
      behaviour(call, seen);
    },
  });
  const dir = await Deno.makeTempDir();
  const address = `unix:${dir}/s.sock`;
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(
      address,
      grpc.ServerCredentials.createInsecure(),
      (e) => e ? reject(e) : resolve(),
    )
  );
  return {
    address,
    seen,
    close: async () => {
      server.forceShutdown();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** Echoes stdin to stdout, says hello on stderr, exits 0 when stdin ends. */
const echo: Behaviour = (call, seen) => {
  call.on("data", (request) => {
    if (!seen.first) {
      seen.first = request as unknown as Record<string, unknown>;
      call.write({ stderr: new TextEncoder().encode("hello\n") });
      return;
    }
    seen.chunkSizes.push(request.stdin.length);
    call.write({ stdout: request.stdin });
  });
  call.on("end", () => {
    call.write({ exit_status: { value: 0 } });
    call.end();
  });
};

function memoryIO(input: Uint8Array | ReadableStream<Uint8Array>) {
  const out: Uint8Array[] = [];
  const err: Uint8Array[] = [];
  const io: StreamIO = {
    stdin: input instanceof Uint8Array ? ReadableStream.from([input]) : input,
    stdout: (chunk) => Promise.resolve(void out.push(chunk.slice())),
    stderr: (chunk) => Promise.resolve(void err.push(chunk.slice())),
  };
  const total = (chunks: Uint8Array[]) => {
    const bytes = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
    let offset = 0;
    for (const c of chunks) bytes.set(c, (offset += c.length) - c.length);
    return bytes;
  };
  return { io, stdout: () => total(out), stderr: () => new TextDecoder().decode(total(err)) };
}

Deno.test("runSshCommand: first request, chunked stdin, output and exit status", async () => {
  const server = await fakeServer(echo);
  const client = dial(server.address, {
    token: "s3cret",
    metadata: { "gitaly-feature-x": "true" },
  });
  try {
    const input = crypto.getRandomValues(new Uint8Array(60_000));
    const big = new Uint8Array(5 * STDIN_CHUNK_SIZE + 17);
    for (let i = 0; i < big.length; i += input.length) {
      big.set(input.subarray(0, big.length - i), i);
    }
    const mem = memoryIO(big);
    const code = await runSshCommand(client, "upload-pack", {
      repository: { storage_name: "default", relative_path: "a.git" },
      git_protocol: "version=2",
    }, mem.io);
    assertEquals(code, 0);
    assertEquals(mem.stdout().length, big.length);
    assert(mem.stdout().every((b, i) => b === big[i]), "stdout is stdin echoed");
    assertEquals(mem.stderr(), "hello\n");
    assertEquals((server.seen.first!.repository as Record<string, unknown>).relative_path, "a.git");
    assertEquals(server.seen.first!.git_protocol, "version=2");
    assert(server.seen.chunkSizes.every((n) => n > 0 && n <= STDIN_CHUNK_SIZE), "chunks ≤ 128 KiB");
    const auth = server.seen.metadata!.get("authorization")[0] as string;
    assertEquals(checkAuthorization(auth, "s3cret"), "ok");
    assertEquals(server.seen.metadata!.get("gitaly-feature-x"), ["true"]);
  } finally {
    client.close();
    await server.close();
  }
});

Deno.test("runSshCommand: the call ends with the responses even while stdin stays open", async () => {
  const server = await fakeServer((call) => {
    call.once("data", () => {
      call.write({ stdout: new TextEncoder().encode("done"), exit_status: { value: 3 } });
      call.end();
    });
  });
  const client = dial(server.address);
  const neverEnding = new ReadableStream<Uint8Array>({ pull: () => new Promise(() => {}) });
  try {
    const mem = memoryIO(neverEnding);
    assertEquals(await runSshCommand(client, "upload-pack", {}, mem.io), 3);
    assertEquals(new TextDecoder().decode(mem.stdout()), "done");
  } finally {
    client.close();
    await server.close();
  }
});

Deno.test("runSshCommand: a failed call rejects with its status", async () => {
  const server = await fakeServer((call) => {
    call.once(
      "data",
      () => call.emit("error", { code: grpc.status.NOT_FOUND, details: "repository not found" }),
    );
  });
  const client = dial(server.address);
  try {
    const error = await assertRejects(
      runSshCommand(client, "upload-pack", {}, memoryIO(new Uint8Array()).io),
    );
    assertEquals((error as grpc.ServiceError).code, grpc.status.NOT_FOUND);
  } finally {
    client.close();
    await server.close();
  }
});

Deno.test("runSshCommand: a failing stdin cancels the call instead of hanging", async () => {
  const server = await fakeServer(() => {}); // never answers
  const client = dial(server.address);
  const broken = new ReadableStream<Uint8Array>({
    pull: (controller) => controller.error(new Error("stdin exploded")),
  });
  try {
    await assertRejects(
      runSshCommand(client, "upload-pack", {}, memoryIO(broken).io),
      /stdin exploded/,
    );
  } finally {
    client.close();
    await server.close();
  }
});
