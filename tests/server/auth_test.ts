import { assertEquals } from "../helpers/assert.ts";
import { authError, checkAuthorization, signV2Token } from "../../src/server/auth.ts";
import { Code } from "../../src/server/errors.ts";

const NOW = 1_700_000_000;

Deno.test("checkAuthorization: outcomes of token v2", () => {
  const valid = `Bearer ${signV2Token("s3cret", NOW)}`;
  assertEquals(checkAuthorization(valid, "s3cret", NOW), "ok");
  assertEquals(checkAuthorization(valid.replace("Bearer", "bearer"), "s3cret", NOW), "ok");
  assertEquals(checkAuthorization(undefined, "s3cret", NOW), "missing");
  assertEquals(checkAuthorization("Basic abc", "s3cret", NOW), "malformed");
  assertEquals(checkAuthorization("Bearer v2.nothex.1", "s3cret", NOW), "malformed");
  assertEquals(checkAuthorization(valid, "other", NOW), "wrong signature");
  assertEquals(checkAuthorization(valid, "s3cret", NOW + 31), "timestamp too old");
  assertEquals(checkAuthorization(valid, "s3cret", NOW - 31), "timestamp too new");
  assertEquals(checkAuthorization(valid, "s3cret", NOW + 30), "ok");
  assertEquals(
    checkAuthorization(valid.replace("v2.", "v1."), "s3cret", NOW),
    "unsupported version",
  );
});

Deno.test("authError: Unauthenticated for missing or malformed, PermissionDenied otherwise", () => {
  assertEquals(authError("missing").code, Code.UNAUTHENTICATED);
  assertEquals(authError("malformed").code, Code.UNAUTHENTICATED);
  assertEquals(authError("wrong signature").code, Code.PERMISSION_DENIED);
  assertEquals(authError("timestamp too old").code, Code.PERMISSION_DENIED);
  assertEquals(authError("unsupported version").message, "permission denied");
});
