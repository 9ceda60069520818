/**
 * RefService's writing RPCs, ours against the reference Gitaly:
 * UpdateReferences and DeleteRefs on fresh copies of the fixtures, comparing
 * codes, messages, error details and the references left on both sides.
 *
 * @module
 */
import { join } from "node:path";
import { assertEquals } from "../helpers/assert.ts";
import {
  type CallResult,
  differentialTest,
  type Harness,
  type Method,
  type RepoRef,
  type RequestOf,
  SIDES,
} from "./harness.ts";

const RS = "gitaly.RefService";
const ZERO = "0".repeat(40);
const MISSING = "1".repeat(40);

const missing: RepoRef = { storage_name: "default", relative_path: "differential/missing.git" };

/**
 * Where we answer more precisely than Gitaly on purpose: asserts the
 * reference's code and message, and our code, message and details.
 */
async function better<M extends Method<typeof RS>>(
  h: Harness,
  method: M,
  request: RequestOf<typeof RS, M>,
  reference: { code: string; message: string },
  ours: { code: string; message: string; details?: unknown[] },
): Promise<void> {
  const results = await h.call(RS, method, request);
  const outcome = (r: CallResult) =>
    r.ok
      ? { code: "OK", message: "", details: [] as unknown[] }
      : { code: r.codeName, message: r.message, details: r.details as unknown[] };
  const ref = outcome(results.reference);
  assertEquals({ code: ref.code, message: ref.message }, reference, `${method}: the reference`);
  assertEquals(outcome(results.ours), {
    code: ours.code,
    message: ours.message,
    details: ours.details ?? [],
  }, `${method}: ours`);
}

/** Creates `name` as a lock file in both copies, as another git would hold it. */
async function lockOnBothSides(h: Harness, repo: RepoRef, ref: string): Promise<string[]> {
  const locks = SIDES.map((side) => join(h.gitDir(side, repo), `${ref}.lock`));
  for (const lock of locks) {
    await Deno.mkdir(join(lock, ".."), { recursive: true });
    await Deno.writeTextFile(lock, "");
  }
  return locks;
}

differentialTest("UpdateReferences: creates, updates, deletes across requests", async (h) => {
  const repository = await h.repo("rich");
  const refs = await h.compareRefs(repository);
  const main = refs["refs/heads/main"];
  const stale = refs["refs/heads/feature/stale"];
  const merged = refs["refs/heads/feature/merged"];
  await h.compare(RS, "UpdateReferences", [
    {
      repository,
      updates: [{
        reference: "refs/heads/feature/stale",
        old_object_id: stale,
        new_object_id: main,
      }],
    },
    {
      updates: [
        { reference: "refs/heads/feature/merged", old_object_id: merged, new_object_id: ZERO },
        { reference: "refs/heads/created", old_object_id: ZERO, new_object_id: stale },
        { reference: "refs/heads/forced", new_object_id: main },
        { reference: "refs/tags/v1.0.0", new_object_id: main },
        { reference: "refs/heads/-dash", new_object_id: main },
        { reference: "refs/heads/nope", new_object_id: ZERO },
        // A symbolic reference: its target is what moves, as with git update-ref.
        { reference: "refs/remotes/origin/HEAD", new_object_id: stale },
      ],
    },
  ]);
  const after = await h.compareRefs(repository);
  assertEquals(after["refs/heads/feature/stale"], main);
  assertEquals(after["refs/heads/feature/merged"], undefined);
  assertEquals(after["refs/remotes/origin/main"], stale);
});

differentialTest("UpdateReferences: refusals Gitaly answers precisely", async (h) => {
  const repository = await h.repo("rich");
  const refs = await h.compareRefs(repository);
  const main = refs["refs/heads/main"];
  const stale = refs["refs/heads/feature/stale"];
  const one = (update: Record<string, string>) => [{ repository, updates: [update] }];
  const requests = [
    one({ reference: "foobar", new_object_id: main }),
    one({ reference: "HEAD", new_object_id: main }),
    one({ reference: "refs/", new_object_id: main }),
    one({ reference: "", new_object_id: main }),
    one({ reference: "refs/heads/a.lock", new_object_id: main }),
    one({ reference: "refs/heads/a..b", new_object_id: main }),
    one({ reference: "refs/heads/a\0b", new_object_id: main }),
    one({ reference: "refs/heads/a b", new_object_id: main }),
    one({ reference: "refs/heads/a~b", new_object_id: main }),
    one({ reference: "refs/heads//a", new_object_id: main }),
    one({ reference: "refs/heads/.a", new_object_id: main }),
    one({ reference: "refs/heads/a@{b", new_object_id: main }),
    one({ reference: "refs/heads/x", old_object_id: "invalid-hex", new_object_id: main }),
    one({ reference: "refs/heads/x", new_object_id: "invalid-hex" }),
    one({ reference: "refs/heads/x", new_object_id: main.toUpperCase() }),
    one({ reference: "refs/heads/x", new_object_id: "a".repeat(64) }),
    one({ reference: "refs/heads/x" }),
    one({ reference: "refs/heads/x", new_object_id: MISSING }),
    one({ reference: "refs/heads/main", old_object_id: MISSING, new_object_id: stale }),
    [{ repository }],
    [{ repository, updates: [{ reference: "refs/heads/x", new_object_id: main }] }, {}],
    [
      { repository, updates: [{ reference: "refs/heads/x", new_object_id: main }] },
      { repository, updates: [{ reference: "refs/heads/y", new_object_id: main }] },
    ],
    [
      {
        repository,
        updates: [
          { reference: "refs/heads/created", old_object_id: ZERO, new_object_id: main },
          { reference: "refs/heads/main", old_object_id: MISSING, new_object_id: stale },
        ],
      },
    ],
    [{ updates: [{ reference: "refs/heads/x", new_object_id: main }] }],
    [{ repository: missing, updates: [{ reference: "refs/heads/x", new_object_id: main }] }],
    [],
  ];
  for (const request of requests) await h.compare(RS, "UpdateReferences", request);
  await h.compareRefs(repository);
});

differentialTest("UpdateReferences: a locked reference", async (h) => {
  const repository = await h.repo("rich");
  const refs = await h.compareRefs(repository);
  const main = refs["refs/heads/main"];
  const stale = refs["refs/heads/feature/stale"];
  const locks = await lockOnBothSides(h, repository, "refs/heads/feature/stale");
  await h.compare(RS, "UpdateReferences", [{
    repository,
    updates: [
      { reference: "refs/heads/main", old_object_id: main, new_object_id: stale },
      { reference: "refs/heads/feature/stale", old_object_id: stale, new_object_id: main },
    ],
  }]);
  for (const lock of locks) await Deno.remove(lock);
  await h.compareRefs(repository);
});

differentialTest("UpdateReferences: conflicts where Gitaly says Internal", async (h) => {
  const repository = await h.repo("rich");
  const refs = await h.compareRefs(repository);
  const main = refs["refs/heads/main"];
  const stale = refs["refs/heads/feature/stale"];
  const tree = (await h.git("ours", repository, ["rev-parse", "main^{tree}"])).trim();
  const update = (...updates: Record<string, string>[]) => [{ repository, updates }];
  const mismatch = (reference: string, expected: string, actual: string) => ({
    code: "Aborted",
    message: "reference does not point to expected object",
    details: [{
      type_url: "type.googleapis.com/gitaly.UpdateReferencesError",
      message: {
        reference_state_mismatch: {
          reference_name: reference,
          expected_object_id: expected,
          actual_object_id: actual,
        },
      },
    }],
  });
  const internal = (message: string) => ({ code: "Internal", message });
  await better(
    h,
    "UpdateReferences",
    update({ reference: "refs/heads/main", old_object_id: ZERO, new_object_id: stale }),
    internal("committing update: reference already exists"),
    mismatch("refs/heads/main", ZERO, main),
  );
  await better(
    h,
    "UpdateReferences",
    update({ reference: "refs/heads/nope", old_object_id: stale, new_object_id: main }),
    internal("committing update: exit status 128"),
    mismatch("refs/heads/nope", stale, ZERO),
  );
  await better(
    h,
    "UpdateReferences",
    update({ reference: "refs/heads/main/sub", new_object_id: main }),
    internal("committing update: file directory conflict"),
    { code: "FailedPrecondition", message: "committing update: file directory conflict" },
  );
  const clash = "committing update: conflicting reference updates in the same transaction";
  await better(
    h,
    "UpdateReferences",
    update(
      { reference: "refs/heads/q", new_object_id: main },
      { reference: "refs/heads/q/r", new_object_id: main },
    ),
    internal(clash),
    { code: "InvalidArgument", message: clash },
  );
  const twice = "committing update: reference has been updated multiple times within a transaction";
  await better(
    h,
    "UpdateReferences",
    update(
      { reference: "refs/heads/q", new_object_id: main },
      { reference: "refs/heads/q", new_object_id: stale },
    ),
    internal(twice),
    { code: "InvalidArgument", message: twice },
  );
  await better(
    h,
    "UpdateReferences",
    update({ reference: "refs/heads/t", new_object_id: tree }),
    internal("committing update: target object not a commit"),
    { code: "InvalidArgument", message: "committing update: target object not a commit" },
  );
  await h.compareRefs(repository);
});

differentialTest("DeleteRefs: named references and all but some prefixes", async (h) => {
  const named = await h.repo("rich");
  await h.compare(RS, "DeleteRefs", {
    repository: named,
    refs: [
      "refs/heads/feature/merged",
      "refs/tags/v1.0.0",
      "refs/remotes/origin/HEAD",
      "refs/heads/does-not-exist",
      "refs/heads/feature/\u00fcnicode",
    ],
  });
  const left = await h.compareRefs(named);
  assertEquals(left["refs/remotes/origin/main"] !== undefined, true); // the symref's target stays

  const except = await h.repo("rich");
  await h.compare(RS, "DeleteRefs", {
    repository: except,
    except_with_prefix: ["refs/heads/", "refs/tags/v1", "refs/keep-around"],
  });
  await h.compareRefs(except);
  await h.compare(RS, "DeleteRefs", { repository: except, except_with_prefix: ["refs/"] });
  await h.compareRefs(except);

  const many = await h.repo("manyrefs");
  await h.compare(RS, "DeleteRefs", { repository: many, except_with_prefix: ["refs/tags/"] });
  await h.compareRefs(many);
});

differentialTest("DeleteRefs: bad requests and names", async (h) => {
  const repository = await h.repo("rich");
  const requests = [
    { repository },
    { repository, refs: ["refs/heads/main"], except_with_prefix: ["refs/"] },
    { repository, except_with_prefix: ["refs/keep", ""] },
    { repository, refs: ["refs/heads/main", ""] },
    { repository, refs: ["refs invalid-ref-format", "refs/heads/main", "refs/a:b"] },
    { repository, refs: ["-refs/heads/main"] },
    { repository, refs: ["refs/heads/a\0b"] },
    { repository, refs: ["refs/heads/a\\b"] },
    { refs: ["refs/heads/main"] },
    { repository: missing, refs: ["refs/heads/main"] },
  ];
  for (const request of requests) await h.compare(RS, "DeleteRefs", request);
  await h.compareRefs(repository);
});

differentialTest("DeleteRefs: a locked reference", async (h) => {
  const repository = await h.repo("rich");
  const locks = await lockOnBothSides(h, repository, "refs/heads/feature/stale");
  await h.compare(RS, "DeleteRefs", {
    repository,
    refs: ["refs/heads/main", "refs/heads/feature/stale"],
  });
  await h.compare(RS, "DeleteRefs", { repository, except_with_prefix: ["refs/tags/"] });
  for (const lock of locks) await Deno.remove(lock);
  await h.compareRefs(repository);
});

differentialTest("DeleteRefs: names Gitaly fails on or deletes", async (h) => {
  const repository = await h.repo("rich");
  const invalid = (...refs: string[]) => ({
    code: "InvalidArgument",
    message: "invalid references",
    details: [{
      type_url: "type.googleapis.com/gitaly.DeleteRefsError",
      message: { invalid_format: { refs } },
    }],
  });
  await better(
    h,
    "DeleteRefs",
    { repository, refs: ["refs/heads/a..b"] },
    { code: "Internal", message: "unable to prepare: invalid reference format" },
    invalid("refs/heads/a..b"),
  );
  await better(
    h,
    "DeleteRefs",
    { repository, refs: ["refs/heads/main.lock"] },
    { code: "Internal", message: "unable to prepare: invalid reference format" },
    invalid("refs/heads/main.lock"),
  );
  await better(
    h,
    "DeleteRefs",
    { repository, refs: ["nope"] },
    { code: "Internal", message: "unable to prepare: exit status 128" },
    invalid("nope"),
  );
  const twice = "unable to prepare: reference has been updated multiple times within a transaction";
  await better(
    h,
    "DeleteRefs",
    { repository, refs: ["refs/heads/main", "refs/heads/main"] },
    { code: "Internal", message: twice },
    { code: "InvalidArgument", message: twice },
  );
  await h.compareRefs(repository);
  // Gitaly deletes HEAD itself (the repository is broken afterwards): ask only ours.
  const head = await h.callSide("ours", RS, "DeleteRefs", { repository, refs: ["HEAD"] });
  assertEquals(head.ok ? "OK" : head.codeName, "InvalidArgument");
  assertEquals((await h.refs(repository)).ours.HEAD, "refs/heads/main");
});
