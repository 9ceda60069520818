import { assertEquals, assertMatch } from "../helpers/assert.ts";
import { join } from "node:path";
import { status } from "@grpc/grpc-js";
import type { ServiceError } from "@grpc/grpc-js";
import { startTestServer } from "../helpers/server.ts";
import { TestClient } from "../helpers/grpc.ts";

const SIZE = "/gitaly.RepositoryService/RepositorySize";
const CREATE = "/gitaly.RepositoryService/CreateRepository";

Deno.test("locator: every invalid repository gets the right code and message", async () => {
  const server = await startTestServer({ storages: ["default", "other"] });
  const client = new TestClient(server.unixAddress);
  const outside = await Deno.makeTempDir();
  try {
    const root = server.storagePaths.default;
    await Deno.symlink(outside, join(root, "escape"));
    await Deno.mkdir(join(root, "+gitaly/tmp"), { recursive: true });
    await Deno.symlink(join(root, "+gitaly/tmp"), join(root, "inward"));
    await Deno.mkdir(join(root, "not-a-repo.git"));
    const cases: [string, unknown, number, RegExp][] = [
      ["no repository", undefined, status.INVALID_ARGUMENT, /repository not set/],
      ["empty repository", {}, status.INVALID_ARGUMENT, /repository not set/],
      ["no path", { storage_name: "default" }, status.INVALID_ARGUMENT, /repository path not set/],
      ["no storage", { relative_path: "a.git" }, status.INVALID_ARGUMENT, /storage name not set/],
      [
        "unknown storage",
        { storage_name: "nope", relative_path: "a.git" },
        status.INVALID_ARGUMENT,
        /storage name not found/,
      ],
      [
        "absolute path",
        { storage_name: "default", relative_path: "/etc" },
        status.INVALID_ARGUMENT,
        /absolute/,
      ],
      [
        "dot-dot escape",
        { storage_name: "default", relative_path: "../other/x.git" },
        status.INVALID_ARGUMENT,
        /escapes root/,
      ],
      [
        "symlink escape",
        { storage_name: "default", relative_path: "escape/x.git" },
        status.INVALID_ARGUMENT,
        /escapes root/,
      ],
      ...["+gitaly/x.git", "+gitaly", "./+gitaly/tmp", "a/../+gitaly/state/x.git"].map((
        relative_path,
      ): [string, unknown, number, RegExp] => [
        `inside +gitaly: ${relative_path}`,
        { storage_name: "default", relative_path },
        status.INVALID_ARGUMENT,
        /^relative path is inside the reserved directory \+gitaly$/,
      ]),
      [
        "symlink into +gitaly",
        { storage_name: "default", relative_path: "inward/x.git" },
        status.INVALID_ARGUMENT,
        /^relative path is inside the reserved directory \+gitaly$/,
      ],
      [
        "+gitaly deeper down is an ordinary folder",
        { storage_name: "default", relative_path: "group/+gitaly/x.git" },
        status.NOT_FOUND,
        /repository not found/,
      ],
      [
        "missing",
        { storage_name: "default", relative_path: "missing.git" },
        status.NOT_FOUND,
        /repository not found/,
      ],
      [
        "not a git dir",
        { storage_name: "default", relative_path: "not-a-repo.git" },
        status.FAILED_PRECONDITION,
        /not valid/,
      ],
    ];
    for (const [name, repository, code, message] of cases) {
      const err = await client.unary(SIZE, { repository }).then(
        () => undefined,
        (e: ServiceError) => e,
      );
      assertEquals(err?.code, code, name);
      assertMatch(err!.details, message, name);
    }
    // Nothing is created inside the server's own folder either.
    for (const relative_path of ["+gitaly/x.git", "+gitaly/tmp/y.git"]) {
      const repository = { storage_name: "default", relative_path };
      const err = await client.unary(CREATE, { repository }).then(
        () => undefined,
        (e: ServiceError) => e,
      );
      assertEquals(err?.code, status.INVALID_ARGUMENT, relative_path);
      assertMatch(err!.details, /reserved directory \+gitaly/, relative_path);
      const made = await Deno.stat(join(root, relative_path)).then(() => true, () => false);
      assertEquals(made, false, relative_path);
    }
  } finally {
    client.close();
    await server.stop();
    await Deno.remove(outside, { recursive: true });
  }
});
