import { Metadata } from "@grpc/grpc-js";
import { parseInvocation } from "../../../src/cli/gitaly_ssh.ts";
import {
  featureFlagsOf,
  INTERNAL_GITALY_URL,
  internalFetchEnv,
} from "../../../src/service/remote/internal_fetch.ts";
import {
  gitalySshCommandLine,
  shellQuote,
} from "../../../src/service/remote/gitaly_ssh_command.ts";
import { assert, assertEquals, assertMatch } from "../../helpers/assert.ts";

Deno.test("internal fetch: the environment gitaly-ssh reads back", () => {
  const incoming = new Metadata();
  incoming.set("gitaly-feature-some-flag", "true");
  incoming.set("gitaly-feature-off", "false");
  incoming.set("x-gitlab-correlation-id", "abc");
  const env = internalFetchEnv(
    { address: "tcp://127.0.0.1:9999", token: "tok" },
    {
      repository: { storage_name: "s1", relative_path: "a/b.git", gl_repository: "project-1" },
      gitConfigOptions: ["uploadpack.allowAnySHA1InWant=true"],
      gitProtocol: "version=2",
    },
    incoming,
  );
  assertEquals(env.GIT_SSH_VARIANT, "simple");
  assertMatch(env.GIT_SSH_COMMAND, / upload-pack$/);
  assertEquals(env.CORRELATION_ID, "abc");
  assertEquals(INTERNAL_GITALY_URL, "ssh://gitaly/internal.git");
  // What our gitaly-ssh makes of it.
  const invocation = parseInvocation(
    ["upload-pack", "gitaly", "git-upload-pack 'internal.git'"],
    env,
  );
  assertEquals(invocation.address, "tcp://127.0.0.1:9999");
  assertEquals(invocation.token, "tok");
  assertEquals(invocation.request.git_protocol, "version=2");
  assertEquals(
    (invocation.request.repository as Record<string, unknown>).gl_repository,
    "project-1",
  );
  assertEquals(invocation.metadata["gitaly-feature-some-flag"], "true");
  assertEquals(invocation.metadata["gitaly-feature-off"], "false");
});

Deno.test("internal fetch: feature flags from metadata, names back to underscores", () => {
  const md = new Metadata();
  md.set("gitaly-feature-a-b-c", "true");
  md.set("unrelated", "x");
  assertEquals(featureFlagsOf(md), { a_b_c: true });
});

Deno.test("gitaly-ssh command line: this Deno runs the gitaly-ssh module", () => {
  const line = gitalySshCommandLine("upload-pack");
  assert(line.startsWith(shellQuote(Deno.execPath())), line);
  assertMatch(line, / run .*src\/cli\/gitaly_ssh\.ts'? upload-pack$/);
  assertEquals(shellQuote("a b'c"), `'a b'\\''c'`);
  assertEquals(shellQuote("/plain/path"), "/plain/path");
});
