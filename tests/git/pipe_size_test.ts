import assert from "node:assert/strict";
import { enlargeStdoutPipe } from "../../src/git/pipe_size.ts";

Deno.test({
  name: "a child's stdout pipe can be enlarged, and a pipeless stdout is left alone",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    const piped = new Deno.Command("sleep", { args: ["5"], stdout: "piped" }).spawn();
    const unpiped = new Deno.Command("sleep", { args: ["5"], stdout: "null" }).spawn();
    try {
      assert.equal(enlargeStdoutPipe(piped.pid, 256 * 1024), true);
      assert.equal(enlargeStdoutPipe(unpiped.pid, 256 * 1024), false);
      // 300 KiB fit into the pipe without a reader: the write completes at once.
      const writer = new Deno.Command("sh", {
        args: ["-c", "head -c 300000 /dev/zero; echo done >&2"],
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      assert.equal(enlargeStdoutPipe(writer.pid, 512 * 1024), true);
      const reader = writer.stderr.getReader();
      const { value } = await reader.read();
      assert.equal(new TextDecoder().decode(value).trim(), "done");
      reader.releaseLock();
      await writer.stdout.cancel();
      await writer.status;
    } finally {
      piped.kill();
      unpiped.kill();
      await Promise.all([piped.stdout.cancel(), piped.status, unpiped.status]);
    }
  },
});
