/**
 * UpdateReferences in process: atomic updates, expected old values, and
 * every refusal with Gitaly's code, message and details.
 *
 * @module
 */
import { join } from "node:path";
import { Metadata } from "@grpc/grpc-js";
import { updateReferences } from "../../../src/service/ref/update_references.ts";
import { assert, assertEquals } from "../../helpers/assert.ts";
import { handlerHarness, repository } from "../../helpers/handler.ts";
import { failed, freshRepos, refsOf, withBytes } from "./helpers.ts";

const ZERO = "0".repeat(40);
const MISSING = "1".repeat(40);
const EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";

/** The answer for a reference not at its expected value. */
function mismatch(ref: string, expected: string, actual: string) {
  return {
    code: "Aborted",
    message: "reference does not point to expected object",
    details: [{
      type: "gitaly.UpdateReferencesError",
      value: {
        reference_state_mismatch: {
          reference_name: ref,
          expected_object_id: expected,
          actual_object_id: actual,
        },
      },
    }],
  };
}

async function setup() {
  const h = await handlerHarness();
  const create = freshRepos(h, async (git) => {
    const b = await git("commit-tree", "-m", "b", EMPTY_TREE);
    const a = await git("commit-tree", "-m", "a", "-p", b, EMPTY_TREE);
    await git("update-ref", "refs/heads/main", a);
    await git("update-ref", "refs/heads/old", b);
  });
  /** A fresh repository with `main` (commit A) and `old` (A's parent B); returns its oids. */
  const fresh = async () => {
    const repo = await create();
    const refs = await refsOf(h, repo);
    return { repo, a: refs["refs/heads/main"], b: refs["refs/heads/old"] };
  };
  const update = (requests: Record<string, unknown>[]) =>
    h.call(
      "gitaly.RefService",
      "UpdateReferences",
      withBytes(requests, ["reference", "old_object_id", "new_object_id"]),
    );
  return { h, fresh, update };
}

Deno.test("UpdateReferences: creates, updates and deletes in one transaction", async () => {
  const { h, fresh, update } = await setup();
  try {
    const { repo, a, b } = await fresh();
    const result = await update([
      {
        repository: repo,
        updates: [{ reference: "refs/heads/main", old_object_id: a, new_object_id: b }],
      },
      { updates: [{ reference: "refs/heads/old", old_object_id: b, new_object_id: ZERO }] },
      { updates: [{ reference: "refs/heads/new", old_object_id: ZERO, new_object_id: a }] },
      {
        updates: [{ reference: "refs/heads/forced", new_object_id: a }, {
          reference: "refs/heads/-dash",
          new_object_id: a,
        }],
      },
    ]);
    assertEquals(result, { ok: true, responses: [{}] });
    assertEquals(await refsOf(h, repo), {
      "refs/heads/-dash": a,
      "refs/heads/forced": a,
      "refs/heads/main": b,
      "refs/heads/new": a,
    });
    // Names are bytes: a Latin-1 name is written as sent.
    const latin1 = new Uint8Array([...new TextEncoder().encode("refs/heads/caf"), 0xe9]);
    assert(
      (await h.call("gitaly.RefService", "UpdateReferences", [{
        repository: repo,
        updates: [{ reference: latin1, new_object_id: new TextEncoder().encode(a) }],
      }])).ok,
    );
    const raw = await new Deno.Command("git", {
      args: [
        "--git-dir",
        h.repoPath(repo),
        "for-each-ref",
        "--format=%(refname)",
        "refs/heads/caf*",
      ],
      stdout: "piped",
    }).output();
    assertEquals([...raw.stdout], [...latin1, 0x0a]);
    // Forced deletion of a reference that does not exist is fine.
    const gone = await update([{
      repository: repo,
      updates: [{ reference: "refs/heads/nope", new_object_id: ZERO }],
    }]);
    assert(gone.ok);
  } finally {
    await h.close();
  }
});

Deno.test("UpdateReferences: thousands of updates over many requests", async () => {
  const { h, fresh, update } = await setup();
  try {
    const { repo, a } = await fresh();
    const requests = Array.from({ length: 50 }, (_, i) => ({
      ...(i === 0 ? { repository: repo } : {}),
      updates: Array.from({ length: 100 }, (_, j) => ({
        reference: `refs/heads/bulk/${i}/${j}`,
        old_object_id: ZERO,
        new_object_id: a,
      })),
    }));
    assertEquals(await update(requests), { ok: true, responses: [{}] });
    const refs = await refsOf(h, repo);
    assertEquals(
      Object.keys(refs).filter((name) => name.startsWith("refs/heads/bulk/")).length,
      5000,
    );
  } finally {
    await h.close();
  }
});

Deno.test("UpdateReferences: a failed update changes nothing", async () => {
  const { h, fresh, update } = await setup();
  try {
    const { repo, a, b } = await fresh();
    const before = await refsOf(h, repo);
    const result = await update([{
      repository: repo,
      updates: [
        { reference: "refs/heads/new", old_object_id: ZERO, new_object_id: a },
        { reference: "refs/heads/main", old_object_id: MISSING, new_object_id: b },
      ],
    }]);
    assertEquals(failed(result), mismatch("refs/heads/main", MISSING, a));
    assertEquals(await refsOf(h, repo), before);
  } finally {
    await h.close();
  }
});

Deno.test("UpdateReferences: requests and names Gitaly refuses", async () => {
  const { h, fresh, update } = await setup();
  try {
    const { repo, a } = await fresh();
    const before = await refsOf(h, repo);
    const one = (update: Record<string, unknown>) => [{ repository: repo, updates: [update] }];
    const invalidFormat = (ref: string, why: string) => ({
      code: "InvalidArgument",
      message: `validating reference: ${why}`,
      details: [{
        type: "gitaly.UpdateReferencesError",
        value: { invalid_format: { refs: [ref] } },
      }],
    });
    const badNames: [string, string][] = [
      ["foobar", "reference is not fully qualified"],
      ["HEAD", "HEAD reference not allowed"],
      ["refs/", "refs/ is not a valid reference"],
      ["refs/heads/a.lock", "component must not end with .lock"],
      ["refs/heads/a..b", "reference must not contain double dots"],
      ["refs/heads/a\0b", "reference must not contain control characters"],
      ["refs/heads/a b", "reference must not contain space characters"],
      ["refs/heads/a:b", "reference must not contain special characters"],
      ["refs/heads//a", "empty component is not allowed"],
      ["refs/heads/.a", "component must not start with dot"],
    ];
    const cases: [Record<string, unknown>[], unknown][] = [
      ...badNames.map(([ref, why]): [Record<string, unknown>[], unknown] => [
        one({ reference: ref, new_object_id: a }),
        invalidFormat(ref, why),
      ]),
      [[{ repository: repo }], {
        code: "InvalidArgument",
        message: "no updates specified",
        details: [],
      }],
      [[{ repository: repo, updates: [{ reference: "refs/heads/x", new_object_id: a }] }, {
        repository: repo,
        updates: [],
      }], {
        code: "InvalidArgument",
        message: "repository set in subsequent request",
        details: [],
      }],
      [one({ reference: "refs/heads/x", old_object_id: "invalid-hex", new_object_id: a }), {
        code: "InvalidArgument",
        message:
          'validating old object ID: invalid object ID: "invalid-hex", expected length 40, got 11',
        details: [],
      }],
      [one({ reference: "refs/heads/x" }), {
        code: "InvalidArgument",
        message: 'validating new object ID: invalid object ID: "", expected length 40, got 0',
        details: [],
      }],
      [one({ reference: "refs/heads/x", new_object_id: a.toUpperCase() }), {
        code: "InvalidArgument",
        message:
          `validating new object ID: invalid object ID: "${a.toUpperCase()}", invalid character '${
            a.toUpperCase().match(/[A-F]/)![0]
          }'`,
        details: [],
      }],
      [one({ reference: "refs/heads/x", new_object_id: "a".repeat(64) }), {
        code: "InvalidArgument",
        message: `validating new object ID: invalid object ID: "${
          "a".repeat(64)
        }", expected length 40, got 64`,
        details: [],
      }],
      [one({ reference: "refs/heads/x", new_object_id: MISSING }), {
        code: "NotFound",
        message: "target object missing",
        details: [],
      }],
      [[], { code: "Internal", message: "receiving initial request: EOF", details: [] }],
      [[{ updates: [{ reference: "refs/heads/x", new_object_id: a }] }], {
        code: "InvalidArgument",
        message: "repository not set",
        details: [],
      }],
    ];
    for (const [requests, expected] of cases) {
      assertEquals(failed(await update(requests)), expected, JSON.stringify(requests));
    }
    assertEquals(await refsOf(h, repo), before);
    const missing = failed(await update([{ repository: repository("missing.git"), updates: [] }]));
    assertEquals(missing.code, "NotFound");
  } finally {
    await h.close();
  }
});

Deno.test("UpdateReferences: conflicts Gitaly answers with Internal get precise codes", async () => {
  const { h, fresh, update } = await setup();
  try {
    const { repo, a, b } = await fresh();
    const before = await refsOf(h, repo);
    const one = (...updates: Record<string, unknown>[]) => [{ repository: repo, updates }];
    const cases: [Record<string, unknown>[], unknown][] = [
      // Should not exist, but does: Gitaly says Internal "committing update: reference already exists".
      [
        one({ reference: "refs/heads/main", old_object_id: ZERO, new_object_id: b }),
        mismatch("refs/heads/main", ZERO, a),
      ],
      // Should exist, but does not: Gitaly says Internal "committing update: exit status 128".
      [
        one({ reference: "refs/heads/nope", old_object_id: b, new_object_id: a }),
        mismatch("refs/heads/nope", b, ZERO),
      ],
      [one({ reference: "refs/heads/main/sub", new_object_id: a }), {
        code: "FailedPrecondition",
        message: "committing update: file directory conflict",
        details: [],
      }],
      [
        one({ reference: "refs/heads/q", new_object_id: a }, {
          reference: "refs/heads/q/r",
          new_object_id: a,
        }),
        {
          code: "InvalidArgument",
          message: "committing update: conflicting reference updates in the same transaction",
          details: [],
        },
      ],
      [
        one({ reference: "refs/heads/q", new_object_id: a }, {
          reference: "refs/heads/q",
          new_object_id: b,
        }),
        {
          code: "InvalidArgument",
          message:
            "committing update: reference has been updated multiple times within a transaction",
          details: [],
        },
      ],
      [one({ reference: "refs/heads/t", new_object_id: EMPTY_TREE }), {
        code: "InvalidArgument",
        message: "committing update: target object not a commit",
        details: [],
      }],
    ];
    for (const [requests, expected] of cases) {
      assertEquals(failed(await update(requests)), expected, JSON.stringify(requests));
    }
    assertEquals(await refsOf(h, repo), before);
  } finally {
    await h.close();
  }
});

Deno.test("UpdateReferences: a locked reference is Aborted with references_locked", async () => {
  const { h, fresh, update } = await setup();
  try {
    const { repo, a, b } = await fresh();
    const lock = join(h.repoPath(repo), "refs/heads/old.lock");
    await Deno.writeTextFile(lock, "");
    const result = await update([{
      repository: repo,
      updates: [
        { reference: "refs/heads/main", old_object_id: a, new_object_id: b },
        { reference: "refs/heads/old", old_object_id: b, new_object_id: ZERO },
      ],
    }]);
    assertEquals(failed(result), {
      code: "Aborted",
      message: "reference is already locked",
      details: [{
        type: "gitaly.UpdateReferencesError",
        value: { references_locked: { refs: ["refs/heads/old"] } },
      }],
    });
    await Deno.remove(lock);
    assertEquals(await refsOf(h, repo), { "refs/heads/main": a, "refs/heads/old": b });
    // git removed its own lock on main when it gave up.
    await Deno.stat(join(h.repoPath(repo), "refs/heads/main.lock")).then(
      () => assert(false, "main.lock left behind"),
      () => {},
    );
  } finally {
    await h.close();
  }
});

Deno.test("UpdateReferences: a cancelled call leaves no change, no lock and no git", async () => {
  const { h, fresh } = await setup();
  try {
    const { repo, a, b } = await fresh();
    const controller = new AbortController();
    const requests = async function* () {
      yield {
        repository: repo,
        updates: [{
          reference: fromText("refs/heads/main"),
          old_object_id: fromText(a),
          new_object_id: fromText(b),
        }],
      };
      controller.abort(new Error("client cancelled"));
      await new Promise((resolve) => setTimeout(resolve, 50));
      throw new Error("client cancelled");
    };
    const handler = updateReferences(h.deps);
    const ctx = {
      path: "/gitaly.RefService/UpdateReferences",
      metadata: new Metadata(),
      signal: controller.signal,
      peer: "test",
      logFields: {},
    };
    const outcome = await handler.fn(requests() as never, ctx).then(
      () => "resolved",
      () => "rejected",
    );
    assertEquals(outcome, "rejected");
    assertEquals(h.deps.git.liveCount(), 0);
    assertEquals(await refsOf(h, repo), { "refs/heads/main": a, "refs/heads/old": b });
    const entries = [...Deno.readDirSync(join(h.repoPath(repo), "refs/heads"))].map((e) => e.name);
    assertEquals(entries.filter((name) => name.endsWith(".lock")), []);
  } finally {
    await h.close();
  }
});

const fromText = (value: string) => new TextEncoder().encode(value);
