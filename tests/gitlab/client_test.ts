/**
 * GitLab's internal API client against the test double: request bodies,
 * answers and errors worded as gitlab-shell's client and Gitaly word them.
 *
 * @module
 */
import { assertEquals, assertRejects } from "../helpers/assert.ts";
import { startGitlabDouble } from "../helpers/gitlab_double.ts";
import { type AllowedParams, GitlabClient } from "../../src/gitlab/client.ts";

/** Awaits `promise`, which must reject with exactly `message` (or matching it). */
function rejectsWith(promise: Promise<unknown>, message: string | RegExp): Promise<unknown> {
  return assertRejects(promise, (error) => {
    const text = (error as Error).message;
    return typeof message === "string" ? text === message : message.test(text);
  });
}

const PARAMS: AllowedParams = {
  repoPath: "/storage/it's.git",
  relativePath: "it's.git",
  gitObjectDirectory: "objects/incoming-x",
  gitAlternateObjectDirectories: ["objects"],
  glRepository: "project-3",
  glId: "key-7",
  glProtocol: "ssh",
  changes: "a b refs/heads/main\n",
};

Deno.test("GitLab client: requests, answers and errors as Gitaly words them", async () => {
  const gitlab = await startGitlabDouble({ tcp: true });
  const client = await GitlabClient.create(
    { url: gitlab.url, secretFile: gitlab.secretFile, httpSettings: {} },
    { retryWaitMs: 1 },
  );
  try {
    assertEquals(await client.allowed(PARAMS), { allowed: true, message: "" });
    assertEquals(gitlab.requests[0].body, {
      action: "git-receive-pack",
      gl_repository: "project-3",
      project: "/storage/its.git",
      changes: "a b refs/heads/main\n",
      protocol: "ssh",
      env: '{"GIT_ALTERNATE_OBJECT_DIRECTORIES_RELATIVE":["objects"],' +
        '"GIT_OBJECT_DIRECTORY_RELATIVE":"objects/incoming-x"}',
      key_id: "7",
      relative_path: "it's.git",
    });
    await client.allowed({ ...PARAMS, glId: "username-jane" });
    assertEquals(gitlab.requests[1].body?.username, "jane");
    await rejectsWith(
      client.allowed({ ...PARAMS, glId: "user-x" }),
      "setting gl_id: gl_id='user-x' is invalid",
    );

    // Refusals: in a 200 answer, or as an error status with GitLab's message.
    gitlab.behaviour.allowed = { allow: false, message: "nope", status: 200 };
    assertEquals(await client.allowed(PARAMS), { allowed: false, message: "nope" });
    gitlab.behaviour.allowed = { allow: false, message: "forbidden", status: 403 };
    await rejectsWith(client.allowed(PARAMS), "forbidden");
    gitlab.behaviour.allowed = { allow: true };

    // 5xx answers are retried twice, then count as no answer.
    gitlab.behaviour.failNext = 2;
    assertEquals((await client.allowed(PARAMS)).allowed, true);
    gitlab.behaviour.failNext = 3;
    await rejectsWith(client.allowed(PARAMS), "Internal API unreachable");
    gitlab.behaviour.failNext = 3;
    await rejectsWith(
      client.preReceive("project-3"),
      "http post to gitlab api /pre_receive endpoint: Internal API unreachable",
    );

    gitlab.behaviour.contentType = "text/html";
    await rejectsWith(
      client.allowed(PARAMS),
      "/allowed endpoint respond with unsupported content type: text/html",
    );
    gitlab.behaviour.contentType = undefined;

    assertEquals(await client.preReceive("project-3"), true);
    gitlab.behaviour.postReceiveMessages = [{ type: "alert", message: "hi" }];
    assertEquals(await client.postReceive("project-3", "user-1", "c", []), {
      ok: true,
      messages: [{ message: "hi", type: "alert" }],
    });
    assertEquals(gitlab.seen("/post_receive").at(-1)?.body?.push_options, null);
    assertEquals(await client.check(), {
      version: "16.7.0-double",
      revision: "d0ub1e",
      apiVersion: "v4",
      redisReachable: true,
    });
  } finally {
    client.close();
    await gitlab.close();
  }
});

Deno.test("GitLab client: bad URLs and secrets are named", async () => {
  await rejectsWith(
    GitlabClient.create({ url: "ftp://x", secret: "s", httpSettings: {} }),
    "unknown GitLab URL prefix",
  );
  await rejectsWith(
    GitlabClient.create({ url: "http://x", secretFile: "/nonexistent", httpSettings: {} }),
    /^reading secret file: /,
  );
  await rejectsWith(
    GitlabClient.create({
      url: "https://x",
      secret: "s",
      httpSettings: { caFile: "/nonexistent.pem" },
    }),
    "cannot find cafile '/nonexistent.pem': cafile not found",
  );
});
