import { authorizationHeader, signTokenV2 } from "../../src/client/token.ts";
import { checkAuthorization } from "../../src/server/auth.ts";
import { assertEquals, assertMatch } from "../helpers/assert.ts";

Deno.test("token v2: the server accepts what the client signs", () => {
  const now = 1_700_000_000;
  const token = signTokenV2("secret", now);
  assertMatch(token, /^v2\.[0-9a-f]{64}\.1700000000$/);
  assertEquals(checkAuthorization(`Bearer ${token}`, "secret", now), "ok");
  assertEquals(checkAuthorization(`Bearer ${token}`, "other", now), "wrong signature");
  assertMatch(authorizationHeader("secret"), /^Bearer v2\./);
});
