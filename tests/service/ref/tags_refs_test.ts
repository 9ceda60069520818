import { assert, assertEquals } from "../../helpers/assert.ts";
import { type HandlerHarness, handlerHarness } from "../../helpers/handler.ts";
import { buildRefFixture, type RefFixture } from "./fixture.ts";

const RS = "gitaly.RefService";
let shared: Promise<{ h: HandlerHarness; f: RefFixture }> | undefined;
function setup() {
  shared ??= (async () => {
    const h = await handlerHarness();
    return { h, f: await buildRefFixture(h, 30) };
  })();
  return shared;
}

const bytes = (text: string) => new TextEncoder().encode(text);
/** Bytes fields come back base64-encoded. */
const b64 = (value: unknown) =>
  new TextDecoder().decode(Uint8Array.from(atob(String(value ?? "")), (c) => c.charCodeAt(0)));

type Tag = {
  name: string;
  id: string;
  message?: string;
  message_size?: number;
  target_commit?: { id: string };
};

Deno.test("FindTag: annotated (trimmed message, peeled target), nested, lightweight, tree", async () => {
  const { h, f } = await setup();
  const find = async (name: string) => {
    const result = await h.call(RS, "FindTag", { repository: f.repo, tag_name: bytes(name) });
    assert(result.ok, JSON.stringify(result));
    return result.responses[0].tag as Tag;
  };
  const annotated = await find("annotated");
  assertEquals(
    [b64(annotated.name), annotated.id, b64(annotated.message), annotated.message_size],
    ["annotated", f.oids.annotated, "annotated", 9],
  );
  assertEquals(annotated.target_commit?.id, f.oids.second);
  assertEquals((await find("nested")).target_commit?.id, f.oids.second);
  const light = await find("light");
  assertEquals([light.id, light.target_commit?.id, light.message], [
    f.oids.root,
    f.oids.root,
    undefined,
  ]);
  const tree = await find("tree");
  assertEquals([tree.id, tree.target_commit], [f.oids.tree, undefined]);

  const missing = await h.call(RS, "FindTag", { repository: f.repo, tag_name: bytes("nope") });
  assert(!missing.ok);
  assertEquals([missing.codeName, missing.message], ["NotFound", "tag does not exist"]);
  assertEquals(missing.details.map((d) => d.type), ["gitaly.FindTagError"]);
  const empty = await h.call(RS, "FindTag", { repository: f.repo, tag_name: new Uint8Array(0) });
  assert(!empty.ok && empty.codeName === "InvalidArgument");
});

Deno.test("FindAllTags: every tag named by its reference, limits and page tokens", async () => {
  const { h, f } = await setup();
  const all = await h.call(RS, "FindAllTags", { repository: f.repo });
  assert(all.ok);
  const tags = all.responses.flatMap((r) => r.tags as Tag[]);
  assertEquals(tags.map((t) => b64(t.name)), ["annotated", "light", "nested", "tree"]);
  assertEquals(tags.map((t) => t.target_commit?.id), [
    f.oids.second,
    f.oids.root,
    f.oids.second,
    undefined,
  ]);
  const page = await h.call(RS, "FindAllTags", {
    repository: f.repo,
    pagination_params: { limit: 1, page_token: "refs/tags/light" },
  });
  assert(page.ok);
  assertEquals(page.responses.flatMap((r) => (r.tags as Tag[]).map((t) => b64(t.name))), [
    "nested",
  ]);
  const none = await h.call(RS, "FindAllTags", {
    repository: f.repo,
    pagination_params: { limit: 0 },
  });
  assertEquals(none, { ok: true, responses: [] });
  const bad = await h.call(RS, "FindAllTags", {
    repository: f.repo,
    pagination_params: { limit: 5, page_token: "refs/tags/nope" },
  });
  assert(
    !bad.ok && bad.codeName === "InvalidArgument" && bad.message === "could not find page token",
  );
});

Deno.test("ListRefs: HEAD first, peeled tags, points-at through nested tags", async () => {
  const { h, f } = await setup();
  const refs = async (request: Record<string, unknown>) => {
    const result = await h.call(RS, "ListRefs", { repository: f.repo, ...request });
    assert(result.ok, JSON.stringify(result));
    return result.responses.flatMap((r) =>
      (r.references as { name: string; target: string; peeled_target?: string }[]).map((ref) => [
        b64(ref.name),
        ref.target,
        ref.peeled_target ?? "",
      ])
    );
  };
  const tags = await refs({ patterns: [bytes("refs/tags/")], head: true, peel_tags: true });
  assertEquals(tags[0], ["HEAD", f.oids.second, ""]);
  assertEquals(tags[1], ["refs/tags/annotated", f.oids.annotated, f.oids.second]);
  assertEquals(tags[3], ["refs/tags/nested", f.oids.nested, f.oids.annotated]);
  const pointing = await refs({
    patterns: [bytes("refs/")],
    pointing_at_oids: [bytes(f.oids.second)],
  });
  assertEquals(pointing.map(([name]) => name), [
    "refs/heads/main",
    "refs/remotes/origin/main",
    "refs/tags/annotated",
    "refs/tags/nested",
  ]);
  assertEquals(await refs({ patterns: [bytes("refs/nope/")], head: true }), []);
  const none = await h.call(RS, "ListRefs", { repository: f.repo, patterns: [] });
  assert(!none.ok && none.message === "patterns must have at least one entry");
});

Deno.test("FindRefsByOID: default patterns, limit, sort", async () => {
  const { h, f } = await setup();
  const find = (request: Record<string, unknown>) =>
    h.call(RS, "FindRefsByOID", { repository: f.repo, ...request });
  assertEquals(await find({ oid: f.oids.second }), {
    ok: true,
    responses: [{ refs: ["refs/heads/main", "refs/tags/annotated", "refs/tags/nested"] }],
  });
  assertEquals(await find({ oid: f.oids.second, limit: 1, sort_field: "-refname" }), {
    ok: true,
    responses: [{ refs: ["refs/tags/nested"] }],
  });
  const empty = await find({ oid: "" });
  assert(!empty.ok && empty.message === "empty Oid");
});

Deno.test("ref tags: cleanup", async () => {
  if (shared) await (await shared).h.close();
});
