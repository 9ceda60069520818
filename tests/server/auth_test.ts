import { assertEquals } from "../helpers/assert.ts";
import { createHmac } from "node:crypto";
import {
  authenticationStatus,
  authError,
  checkAuthorization,
  signV2Token,
  v2AuthenticationError,
} from "../../src/server/auth.ts";
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

Deno.test("authenticationStatus and v2AuthenticationError: Gitaly's metric labels", () => {
  assertEquals(authenticationStatus(undefined, false), "server disabled authentication");
  assertEquals(authenticationStatus(undefined, true), "server disabled authentication");
  assertEquals(authenticationStatus("ok", false), "ok");
  assertEquals(authenticationStatus("ok", true), "would be ok");
  assertEquals(authenticationStatus("missing", false), "unauthenticated");
  assertEquals(authenticationStatus("malformed", true), "unauthenticated");
  assertEquals(authenticationStatus("unsupported version", false), "denied");
  assertEquals(authenticationStatus("wrong signature", true), "denied");
  assertEquals(authenticationStatus("timestamp too old", false), "denied");
  assertEquals(v2AuthenticationError("wrong signature"), "wrong hmac signature");
  assertEquals(v2AuthenticationError("bad timestamp"), "cannot parse timestamp");
  assertEquals(v2AuthenticationError("timestamp too new"), "timestamp too new");
  assertEquals(v2AuthenticationError("unsupported version"), undefined);
  assertEquals(v2AuthenticationError("missing"), undefined);
  assertEquals(v2AuthenticationError("ok"), undefined);
});

Deno.test("checkAuthorization: a signed '+' timestamp parses, as Go's ParseInt does", () => {
  const now = 1_700_000_000;
  const message = `+${now}`;
  const hmac = createHmac("sha256", "s").update(message).digest("hex");
  assertEquals(checkAuthorization(`Bearer v2.${hmac}.${message}`, "s", now), "ok");
});
