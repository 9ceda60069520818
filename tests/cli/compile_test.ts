/**
 * `compile.sh` when `deno compile` cannot get its runtime: it must say how
 * to use `DENORT_BIN`. A stand-in `deno` fails the way a download does
 * without network, so the test needs no network and compiles nothing.
 */
import { join } from "node:path";
import { assertEquals, assertMatch } from "../helpers/assert.ts";

const SCRIPT = new URL("../../compile.sh", import.meta.url).pathname;

async function runCompile(env: Record<string, string>) {
  const out = await new Deno.Command("bash", {
    args: [SCRIPT],
    env,
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

Deno.test("compile.sh: a failed denort download says how to use DENORT_BIN", async () => {
  const dir = await Deno.makeTempDir({ prefix: "compile-test-" });
  try {
    const fakeDeno = join(dir, "deno");
    await Deno.writeTextFile(
      fakeDeno,
      "#!/bin/sh\necho 'error: Writing deno compile executable: error sending request for url" +
        " (https://dl.deno.land/release/v2.9.6/denort-x86_64-unknown-linux-gnu.zip): dns error' >&2\n" +
        "exit 1\n",
    );
    await Deno.chmod(fakeDeno, 0o755);
    const failed = await runCompile({ DENO: fakeDeno, DENORT_BIN: "" });
    assertEquals(failed.code, 1);
    assertMatch(failed.stderr, /dns error/);
    assertMatch(failed.stderr, /DENORT_BIN=\/path\/to\/denort \.\/compile\.sh/);

    // With DENORT_BIN set, a bad path is named before anything runs.
    const badRuntime = await runCompile({ DENO: fakeDeno, DENORT_BIN: join(dir, "missing") });
    assertEquals(badRuntime.code, 1);
    assertMatch(badRuntime.stderr, /DENORT_BIN=.*missing is not an executable/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
