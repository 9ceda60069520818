import { GitalySshError, parseInvocation, SHOW_ALL_REFS } from "../../src/cli/gitaly_ssh.ts";
import { assertEquals, assertThrows } from "../helpers/assert.ts";

const PAYLOAD =
  `{"repository":{"storageName":"default","relativePath":"a.git"},"gitConfigOptions":["x.y=z"]}`;

Deno.test("gitaly-ssh: an upload-pack invocation from its environment", () => {
  const invocation = parseInvocation(["upload-pack", "gitaly", "git-upload-pack '/a.git'"], {
    GITALY_ADDRESS: "unix:/run/gitaly.socket",
    GITALY_PAYLOAD: PAYLOAD,
    GITALY_TOKEN: "secret",
    GITALY_FEATUREFLAGS: "some_flag:true,other:false,broken",
    GITALY_WD: "/tmp",
    CORRELATION_ID: "corr-1",
  });
  assertEquals(invocation.command, "upload-pack");
  assertEquals(invocation.address, "unix:/run/gitaly.socket");
  assertEquals(invocation.token, "secret");
  assertEquals(invocation.workingDir, "/tmp");
  // Every ref visible to the fetching side, before the caller's own options.
  assertEquals(invocation.request.git_config_options, [SHOW_ALL_REFS, "x.y=z"]);
  assertEquals(invocation.metadata, {
    "gitaly-feature-some-flag": "true",
    "gitaly-feature-other": "false",
    "x-gitlab-correlation-id": "corr-1",
  });
  assertEquals(invocation.sidechannel, false);
});

Deno.test("gitaly-ssh: receive-pack keeps its payload as it is", () => {
  const invocation = parseInvocation(["receive-pack", "host", "cmd"], {
    GITALY_ADDRESS: "tcp://127.0.0.1:1",
    GITALY_PAYLOAD: `{"repository":{"storage_name":"s","relative_path":"r"},"gl_id":"user-1"}`,
  });
  assertEquals(invocation.request.gl_id, "user-1");
  assertEquals(invocation.request.git_config_options ?? [], []);
  assertEquals(invocation.token, undefined);
});

Deno.test("gitaly-ssh: invocation errors", () => {
  const env = { GITALY_ADDRESS: "unix:/s", GITALY_PAYLOAD: PAYLOAD };
  assertThrows(() => parseInvocation(["-G", "host"], env), GitalySshError);
  assertThrows(() => parseInvocation(["upload-pack", "host"], env), /expected at least 1, got 2/);
  assertThrows(() => parseInvocation(["push", "h", "c"], env), /invalid pack command: "push"/);
  assertThrows(
    () => parseInvocation(["upload-pack", "h", "c"], { GITALY_PAYLOAD: PAYLOAD }),
    /^gitaly address can not be empty: set GITALY_ADDRESS$/,
  );
  // Missing variables are named, not reported as what parsing nothing says.
  for (const payload of [undefined, "", "  "]) {
    assertThrows(
      () =>
        parseInvocation(["upload-pack", "h", "c"], {
          GITALY_ADDRESS: "unix:/s",
          GITALY_PAYLOAD: payload,
        }),
      /^GITALY_PAYLOAD is not set: it carries the first request as JSON/,
    );
  }
  assertThrows(
    () =>
      parseInvocation(["upload-pack", "h", "c"], {
        GITALY_ADDRESS: "unix:/s",
        GITALY_PAYLOAD: "{",
      }),
    /^json unmarshal: GITALY_PAYLOAD: /,
  );
});
