/**
 * The OperationService core in-process: the quarantine (objects invisible
 * until migrated, removed afterwards), updateReferenceWithHooks (git runs
 * the reference-transaction hook around the update, custom hooks refuse
 * with typed errors and see the quarantined objects, a failing
 * post-receive hook is ignored) and the rule that a refused operation
 * leaves neither refs nor objects behind.
 *
 * @module
 */
import { join } from "node:path";
import { assert, assertEquals } from "../../helpers/assert.ts";
import { type HandlerHarness, handlerHarness, runGit } from "../../helpers/handler.ts";
import { HooksRuntime } from "../../../src/service/hooks/runtime.ts";
import { Quarantine } from "../../../src/service/operation/quarantine.ts";
import {
  CustomHookError,
  ReferenceTransactionHookError,
  ReferenceUpdateError,
  updateReferenceWithHooks,
} from "../../../src/service/operation/update_with_hooks.ts";
import type { CallContext } from "../../../src/server/rpc.ts";
import { Code, GrpcError } from "../../../src/server/errors.ts";
import { Metadata } from "@grpc/grpc-js";
import type { Repository } from "../../../src/proto/types.ts";

const USER = {
  gl_id: "user-1",
  gl_username: "jane",
  name: "Jane Doe",
  email: "jane@example.com",
  timezone: "UTC",
};
/** The user as the core reads it (names are bytes there; the hooks need only these). */
const HOOK_USER = { gl_id: "user-1", gl_username: "jane" };

const bytes = (text: string) => new TextEncoder().encode(text);

/** An annotated `v1` at main, as the handler harness takes it (bytes as bytes). */
function tagRequest(repo: Repository): Record<string, unknown> {
  return {
    repository: repo,
    tag_name: bytes("v1"),
    target_revision: bytes("main"),
    message: bytes("annotated\n"),
    user: { ...USER, name: bytes(USER.name), email: bytes(USER.email) },
    timestamp: { seconds: 1_700_000_000 },
  };
}

function ctx(): CallContext {
  return {
    path: "/gitaly.OperationService/Test",
    metadata: new Metadata(),
    signal: new AbortController().signal,
    peer: "test",
    logFields: {},
  };
}

async function setup(name: string): Promise<{ h: HandlerHarness; repo: Repository; path: string }> {
  const h = await handlerHarness({ bytes: "text" });
  const repo = await h.createRepo(`${name}.git`, async (git) => {
    await git("commit-tree", "-m", "root", "4b825dc642cb6eb9a060e54bf8d69288fbee4904")
      .then((oid) => git("update-ref", "refs/heads/main", oid));
  });
  repo.gl_repository = "project-1";
  return { h, repo, path: h.repoPath(repo) };
}

async function hasObject(path: string, oid: string, env?: Record<string, string>) {
  const out = await new Deno.Command("/usr/bin/git", {
    args: ["--git-dir", path, "cat-file", "-e", oid],
    env,
    stderr: "null",
  }).output();
  return out.success;
}

async function writeHook(path: string, hook: string, body: string): Promise<void> {
  const file = join(path, "custom_hooks", hook);
  await Deno.mkdir(join(file, ".."), { recursive: true });
  await Deno.writeTextFile(file, `#!/bin/sh\n${body}\n`);
  await Deno.chmod(file, 0o755);
}

async function tmpEntries(h: HandlerHarness): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const entry of Deno.readDir(join(h.storagePath(), "+gitaly", "tmp"))) {
      names.push(entry.name);
    }
  } catch {
    // no tmp dir at all
  }
  return names;
}

Deno.test("quarantine: objects stay out of the repository until migrated", async () => {
  const { h, repo, path } = await setup("quarantine");
  try {
    const q = await Quarantine.create(h.deps, repo);
    assert(q.dir.includes("/+gitaly/tmp/quarantine-"), q.dir);
    assert(q.repository.git_object_directory!.startsWith("../"), q.repository.git_object_directory);
    assertEquals(q.repository.git_alternate_object_directories, ["objects"]);
    assertEquals(q.env.GIT_ALTERNATE_OBJECT_DIRECTORIES, join(path, "objects"));
    const out = await new Deno.Command("/bin/sh", {
      args: ["-c", `printf 'in quarantine\\n' | git --git-dir "${path}" hash-object -w --stdin`],
      env: q.env,
      stdout: "piped",
    }).output();
    const quarantined = new TextDecoder().decode(out.stdout).trim();
    assert(/^[0-9a-f]{40}$/.test(quarantined), quarantined);
    assert(await hasObject(path, quarantined, q.env), "visible through the quarantine");
    assert(!await hasObject(path, quarantined), "invisible in the repository");
    const info = await h.deps.catfile.info(path, quarantined, { env: q.env });
    assertEquals(info?.type, "blob");
    await q.migrate();
    assert(await hasObject(path, quarantined), "migrated");
    assertEquals(h.deps.catfile.stats().idle, 1); // the cat-file that read the quarantine
    await q.cleanup();
    assertEquals(h.deps.catfile.stats().idle, 0);
    await q.cleanup(); // idempotent
    assertEquals(await tmpEntries(h), []);
  } finally {
    await h.close();
  }
});

Deno.test("quarantine: packs are migrated whole", async () => {
  const { h, repo, path } = await setup("packs");
  try {
    const q = await Quarantine.create(h.deps, repo);
    const script = `set -e
for i in 1 2 3; do printf "object $i\\n" | git --git-dir "${path}" hash-object -w --stdin; done |
  git --git-dir "${path}" pack-objects -q "$GIT_OBJECT_DIRECTORY/pack/pack" >/dev/null
rm -rf "$GIT_OBJECT_DIRECTORY"/??`;
    await Deno.mkdir(join(q.dir, "pack"));
    const out = await new Deno.Command("/bin/sh", { args: ["-c", script], env: q.env }).output();
    assert(out.success, new TextDecoder().decode(out.stderr));
    const packs = [...Deno.readDirSync(join(q.dir, "pack"))].map((e) => e.name).sort();
    assertEquals(packs.length, 2, packs.join(","));
    await q.migrate();
    for (const name of packs) {
      assert((await Deno.stat(join(path, "objects", "pack", name))).isFile, name);
    }
    const verify = await new Deno.Command("/usr/bin/git", {
      args: ["--git-dir", path, "count-objects", "-v"],
      stdout: "piped",
    }).output();
    assert(new TextDecoder().decode(verify.stdout).includes("packs: 1"));
    await q.cleanup();
  } finally {
    await h.close();
  }
});

Deno.test("updateReferenceWithHooks: git runs the reference-transaction hook", async () => {
  const { h, repo, path } = await setup("reftx");
  const runtimeRoot = await Deno.makeTempDir({ prefix: "opcore-runtime-" });
  const runtime = new HooksRuntime(runtimeRoot);
  try {
    h.deps.hooks = runtime;
    await runtime.prepare();
    const log = join(runtimeRoot, "reftx.log");
    await Deno.writeTextFile(
      join(runtime.hooksDir, "reference-transaction"),
      `#!/bin/sh\n{ echo "state $1"; cat; [ -n "$GITALY_HOOKS_PAYLOAD" ] && echo payload; } >> "${log}"\n`,
    );
    const main = (await runGit(["rev-parse", "main"], path)).trim();
    const createTopic = () =>
      updateReferenceWithHooks(h.deps, ctx(), {
        repository: repo,
        user: HOOK_USER,
        reference: "refs/heads/topic",
        newOid: main,
        oldOid: "0".repeat(40),
      });
    await createTopic();
    assertEquals(
      await Deno.readTextFile(log),
      `state prepared\n${"0".repeat(40)} ${main} refs/heads/topic\npayload\n` +
        `state committed\n${"0".repeat(40)} ${main} refs/heads/topic\npayload\n`,
    );
    assertEquals((await runGit(["rev-parse", "topic"], path)).trim(), main);
    // a refused update: a typed error, the ref stays
    await Deno.remove(log);
    const error = await createTopic().then(() => undefined, (e) => e);
    assert(error instanceof ReferenceUpdateError, String(error));
    assertEquals(error.message, "reference update: reference already exists");
    assertEquals(error.detail().old_oid, "0".repeat(40));
    // a hook refusing the prepared phase (a failed vote) aborts the update
    await Deno.writeTextFile(
      join(runtime.hooksDir, "reference-transaction"),
      `#!/bin/sh\ncat >/dev/null\n[ "$1" = prepared ] || exit 0\necho "vote failed" >&2\nexit 1\n`,
    );
    const voted = await updateReferenceWithHooks(h.deps, ctx(), {
      repository: repo,
      user: HOOK_USER,
      reference: "refs/heads/voted",
      newOid: main,
      oldOid: "0".repeat(40),
    }).then(() => undefined, (e) => e);
    assert(voted instanceof ReferenceTransactionHookError, String(voted));
    assertEquals(voted.message, "executing preparatory reference-transaction hook: vote failed");
    assertEquals((await runGit(["for-each-ref", "refs/heads/voted"], path)).trim(), "");
  } finally {
    runtime.closeSync();
    await Deno.remove(runtimeRoot, { recursive: true }).catch(() => {});
    await h.close();
  }
});

Deno.test("UserCreateTag: a refused tag leaves no object and no quarantine behind", async () => {
  const { h, repo, path } = await setup("refused");
  try {
    // the custom hook sees the quarantined tag object, then refuses
    await writeHook(
      path,
      "pre-receive",
      'read old new ref; git cat-file -t "$new" >&2; echo "$GL_ID $GL_USERNAME $GL_PROTOCOL"; exit 1',
    );
    const result = await h.call("gitaly.OperationService", "UserCreateTag", tagRequest(repo));
    assert(!result.ok);
    assertEquals(result.codeName, "PermissionDenied");
    assertEquals(result.message, "reference update denied by custom hooks");
    const detail = result.details[0];
    assertEquals(detail.type, "gitaly.UserCreateTagError");
    const hook = (detail.value as { custom_hook: { stderr: Uint8Array; stdout: Uint8Array } })
      .custom_hook;
    assertEquals(new TextDecoder().decode(hook.stderr), "tag\n");
    assertEquals(new TextDecoder().decode(hook.stdout), "user-1 jane web\n");
    const loose = (await runGit(["count-objects"], path)).trim();
    assert(loose.startsWith("1 objects,"), loose); // only the root commit
    assertEquals(await tmpEntries(h), []);
    assertEquals((await runGit(["tag", "--list"], path)).trim(), "");
  } finally {
    await h.close();
  }
});

Deno.test("updateReferenceWithHooks: typed custom hook errors; post-receive failures ignored", async () => {
  const { h, repo, path } = await setup("typed");
  try {
    const main = (await runGit(["rev-parse", "main"], path)).trim();
    await writeHook(path, "update", 'echo "out"; echo "no $1" >&2; exit 3');
    const change = {
      repository: repo,
      user: HOOK_USER,
      reference: "refs/heads/x",
      newOid: main,
      oldOid: "0".repeat(40),
    };
    let error: unknown;
    try {
      await updateReferenceWithHooks(h.deps, ctx(), change);
    } catch (e) {
      error = e;
    }
    assert(error instanceof CustomHookError, String(error));
    assertEquals(error.hook, "update");
    assertEquals(error.text, "no refs/heads/x\n");
    assertEquals(error.message, "running update hooks: no refs/heads/x\n");
    assertEquals(error.stdout, "out\n");
    await Deno.remove(join(path, "custom_hooks", "update"));
    await writeHook(path, "post-receive", "echo late >&2; exit 1");
    await updateReferenceWithHooks(h.deps, ctx(), change);
    assertEquals((await runGit(["rev-parse", "x"], path)).trim(), main);
  } finally {
    await h.close();
  }
});

Deno.test("UserCreateTag: a cancelled call stops its hooks and leaves nothing behind", async () => {
  const { h, repo, path } = await setup("cancelled");
  try {
    await writeHook(path, "pre-receive", "cat >/dev/null; sleep 30");
    const controller = new AbortController();
    const started = Date.now();
    // as the server cancels a call
    setTimeout(() => controller.abort(new GrpcError(Code.CANCELLED, "call cancelled")), 300);
    const result = await h.call("gitaly.OperationService", "UserCreateTag", tagRequest(repo), {
      signal: controller.signal,
    });
    assert(!result.ok);
    assertEquals(result.codeName, "Canceled");
    assert(Date.now() - started < 10_000, "the hook was stopped");
    assertEquals(await tmpEntries(h), []);
    assertEquals((await runGit(["tag", "--list"], path)).trim(), "");
  } finally {
    await h.close();
  }
});
