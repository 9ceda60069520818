/**
 * Go's `%q` quoting, and the object id and reference name checks that
 * quote with it, against what Go and Gitaly print.
 *
 * @module
 */
import { goQuote, goQuoteRune } from "../../src/git/goquote.ts";
import { hexProblem, SHA1, SHA256 } from "../../src/git/objectid.ts";
import { referenceProblem } from "../../src/git/refname.ts";
import { assertEquals } from "../helpers/assert.ts";

Deno.test("goQuote: as Go's %q", () => {
  assertEquals(goQuote('a"b\\c\n\t\x00\x07\x7f\u0085é'), '"a\\"b\\\\c\\n\\t\\x00\\a\\x7f\\u0085é"');
  assertEquals(goQuoteRune("'"), "'\\''");
  assertEquals(goQuoteRune('"'), "'\"'");
  assertEquals(goQuoteRune("\x00"), "'\\x00'");
});

Deno.test("hexProblem: Gitaly's ValidateHex messages", () => {
  assertEquals(hexProblem("a".repeat(40), SHA1), undefined);
  assertEquals(hexProblem("a".repeat(64), SHA256), undefined);
  assertEquals(hexProblem("abc", SHA1), 'invalid object ID: "abc", expected length 40, got 3');
  assertEquals(
    hexProblem("é".repeat(20), SHA1),
    `invalid object ID: "${"é".repeat(20)}", invalid character 'é'`,
  );
  assertEquals(
    hexProblem("A".repeat(40), SHA1),
    `invalid object ID: "${"A".repeat(40)}", invalid character 'A'`,
  );
});

Deno.test("referenceProblem: git's check-ref-format rules in Gitaly's words", () => {
  const ok = [
    "refs/heads/main",
    "refs/heads/-dash",
    "refs/tags/v1.0",
    "refs/heads/caf\ufffd",
    "refs/x",
  ];
  for (const name of ok) assertEquals(referenceProblem(name), undefined, name);
  const bad: [string, string][] = [
    ["HEAD", "HEAD reference not allowed"],
    ["main", "reference is not fully qualified"],
    ["refs/", "refs/ is not a valid reference"],
    ["refs/heads/", "reference must not end with slash"],
    ["refs/heads/a.", "reference must not end with dot"],
    ["refs/heads/a@{1}", "reference must not contain @{"],
    ["refs/heads/a..b", "reference must not contain double dots"],
    ["refs/heads/a\tb", "reference must not contain space characters"],
    ["refs/heads/a*", "reference must not contain special characters"],
    ["refs/heads/a\x7f", "reference must not contain special characters"],
    ["refs/heads/a\x01", "reference must not contain control characters"],
    ["refs/heads//a", "empty component is not allowed"],
    ["refs/heads/.a", "component must not start with dot"],
    ["refs/heads/a.lock/b", "component must not end with .lock"],
  ];
  for (const [name, problem] of bad) assertEquals(referenceProblem(name), problem, name);
});
