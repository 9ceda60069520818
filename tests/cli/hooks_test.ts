/**
 * The `hooks` subcommand on its own: argument and payload errors, hooks
 * the payload did not request, and calls to a running server's
 * HookService over its internal socket (found in its runtime directory).
 *
 * @module
 */
import { join } from "node:path";
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { createRepo } from "../helpers/gitrepo.ts";
import { startTestServer } from "../helpers/server.ts";
import { hooksCommand } from "../../src/cli/hooks.ts";
import { encodeHooksPayload, Hook, RECEIVE_PACK_HOOKS } from "../../src/service/hooks/payload.ts";

/** Runs the subcommand in-process with `stdin`; collects its output. */
async function run(args: string[], env: Record<string, string>, stdin = "") {
  let stdout = "";
  let stderr = "";
  const decoder = new TextDecoder();
  const code = await hooksCommand(args, env, {
    stdin: new Blob([stdin]).stream(),
    stdout: (chunk) => Promise.resolve(void (stdout += decoder.decode(chunk))),
    stderr: (chunk) => Promise.resolve(void (stderr += decoder.decode(chunk))),
  });
  return { code, stdout, stderr };
}

function payload(internalSocket: string, requestedHooks = RECEIVE_PACK_HOOKS, token = "") {
  return encodeHooksPayload({
    requestedHooks,
    featureFlags: [],
    runtimeDir: "/nonexistent",
    internalSocket,
    internalSocketToken: token,
    transaction: null,
    userDetails: { username: "alice", userid: "user-1", protocol: "ssh" },
    repository: { storage_name: "default", relative_path: "repo.git", gl_repository: "project-1" },
  });
}

Deno.test("hooks: bad invocations exit 1 with the reason; unrequested hooks succeed", async () => {
  const unknown = await run(["pre-commit"], {});
  assertEquals(unknown.code, 1);
  assertMatch(unknown.stderr, /subcommand name invalid: "pre-commit"/);
  const missing = await run(["pre-receive"], {});
  assertEquals(missing.code, 1);
  assertMatch(missing.stderr, /no hooks payload found in environment/);
  const garbage = await run(["pre-receive"], { GITALY_HOOKS_PAYLOAD: "%%%" });
  assertEquals(garbage.code, 1);
  assertMatch(garbage.stderr, /error when getting hooks payload/);
  const skipped = await run(["update", "a", "b", "c"], {
    GITALY_HOOKS_PAYLOAD: payload("/nonexistent.sock", Hook.PreReceive),
  });
  assertEquals(skipped, { code: 0, stdout: "", stderr: "" });
  const badArgs = await run(["update", "only-one"], {
    GITALY_HOOKS_PAYLOAD: payload("/nonexistent.sock"),
  });
  assertEquals(badArgs.code, 1);
  assertMatch(badArgs.stderr, /update hook expects exactly three arguments/);
});

Deno.test("hooks: calls the server's HookService over the internal socket", async () => {
  const server = await startTestServer({ token: "tok" });
  try {
    await createRepo(join(server.storagePaths.default, "repo.git"));
    let socket = "";
    for await (const entry of Deno.readDir(Deno.env.get("TMPDIR") || "/tmp")) {
      if (entry.name.startsWith(`gitaly-hooks-${server.process.pid}-`)) {
        socket = join(Deno.env.get("TMPDIR") || "/tmp", entry.name, "internal.sock");
      }
    }
    assert(socket, "the server's runtime directory");
    const env = { GITALY_HOOKS_PAYLOAD: payload(socket, RECEIVE_PACK_HOOKS, "tok") };
    const zero = "0".repeat(40);
    const one = "1".repeat(40);
    for (const state of ["prepared", "committed", "aborted"]) {
      assertEquals(
        await run(["reference-transaction", state], env, `${zero} ${one} refs/heads/x\n`),
        { code: 0, stdout: "", stderr: "" },
      );
    }
    const badState = await run(["reference-transaction", "voting"], env);
    assertEquals(badState.code, 1);
    assertMatch(badState.stderr, /invalid state: "voting"/);
    assertEquals(await run(["update", "refs/heads/x", zero, one], env), {
      code: 0,
      stdout: "",
      stderr: "",
    });
    // Without GitLab configured only custom hooks run: none here.
    assertEquals(await run(["pre-receive"], env, `${zero} ${one} refs/heads/x\n`), {
      code: 0,
      stdout: "",
      stderr: "",
    });
    const empty = await run(["post-receive"], env, "");
    assertEquals(empty, { code: 1, stdout: "", stderr: "hook got no reference updates" });
    const wrongToken = await run(["update", "refs/heads/x", zero, one], {
      GITALY_HOOKS_PAYLOAD: payload(socket, RECEIVE_PACK_HOOKS, "wrong"),
    });
    assertEquals(wrongToken.code, 1);
    assertMatch(wrongToken.stderr, /PermissionDenied|authentication/i);
  } finally {
    await server.stop();
  }
});
