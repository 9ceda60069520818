import { assertEquals } from "../helpers/assert.ts";
import { createHmac } from "node:crypto";
import { status } from "@grpc/grpc-js";
import { startTestServer } from "../helpers/server.ts";
import { codeOf, TestClient } from "../helpers/grpc.ts";

const SECRET = "it-is-a-secret";
const HEALTH = "/grpc.health.v1.Health/Check";
const EXISTS = "/gitaly.RepositoryService/RepositoryExists";

function tokenAt(secret: string, seconds: number): string {
  const ts = String(Math.floor(seconds));
  return `Bearer v2.${createHmac("sha256", secret).update(ts).digest("hex")}.${ts}`;
}

const now = () => Date.now() / 1000;
const repo = { repository: { storage_name: "default", relative_path: "a.git" } };

Deno.test("token v2: every outcome, on health and on a Gitaly RPC", async () => {
  const server = await startTestServer({ token: SECRET });
  const client = new TestClient(server.unixAddress);
  try {
    // Tokens are made when sent: under load the earlier cases can take seconds.
    const cases: [string, () => string | undefined, number][] = [
      ["no token", () => undefined, status.UNAUTHENTICATED],
      ["malformed", () => "Bearer nonsense", status.UNAUTHENTICATED],
      ["not hex", () => "Bearer v2.zz.123", status.UNAUTHENTICATED],
      ["wrong secret", () => tokenAt("other", now()), status.PERMISSION_DENIED],
      ["31 s old", () => tokenAt(SECRET, Math.floor(now()) - 31), status.PERMISSION_DENIED],
      ["31 s ahead", () => tokenAt(SECRET, Math.ceil(now()) + 31), status.PERMISSION_DENIED],
      [
        "v1 token",
        () => `Bearer v1.${"ab".repeat(32)}.${Math.floor(now())}`,
        status.PERMISSION_DENIED,
      ],
      ["valid", () => tokenAt(SECRET, now()), status.OK],
      ["29 s old", () => tokenAt(SECRET, Math.ceil(now()) - 29), status.OK],
      ["29 s ahead", () => tokenAt(SECRET, Math.floor(now()) + 29), status.OK],
    ];
    for (const [name, token, expected] of cases) {
      for (const path of [HEALTH, EXISTS]) {
        const request = path === HEALTH ? {} : repo;
        const authorization = token();
        const code = await codeOf(
          client.unary(path, request, authorization ? { authorization } : {}),
        );
        assertEquals(code, expected, `${name} on ${path}`);
      }
    }
    // Counted as Gitaly counts them: per call, by outcome; why a v2 token failed, separately.
    const metrics = await scrape(server.metricsAddress);
    assertEquals(sample(metrics, "gitaly_authentications_total", 'enforced="true",status="ok"'), 6);
    assertEquals(
      sample(metrics, "gitaly_authentications_total", 'enforced="true",status="unauthenticated"'),
      6,
    );
    assertEquals(
      sample(metrics, "gitaly_authentications_total", 'enforced="true",status="denied"'),
      8,
    );
    for (const error of ["wrong hmac signature", "timestamp too old", "timestamp too new"]) {
      assertEquals(
        sample(metrics, "gitaly_authentication_errors_total", `version="v2",error="${error}"`),
        2,
        error,
      );
    }
  } finally {
    client.close();
    await server.stop();
  }
});

Deno.test("token v2: transitioning lets bad tokens through and logs them", async () => {
  const server = await startTestServer({ token: SECRET, transitioning: true });
  const client = new TestClient(server.unixAddress);
  try {
    assertEquals(await codeOf(client.unary(EXISTS, repo)), status.OK);
    assertEquals(
      await codeOf(client.unary(EXISTS, repo, { authorization: tokenAt("x", now()) })),
      status.OK,
    );
    assertEquals(
      await codeOf(client.unary(EXISTS, repo, { authorization: tokenAt(SECRET, now()) })),
      status.OK,
    );
    const metrics = await scrape(server.metricsAddress);
    const count = (labels: string) => sample(metrics, "gitaly_authentications_total", labels);
    assertEquals(count('enforced="false",status="unauthenticated"'), 1);
    assertEquals(count('enforced="false",status="denied"'), 1);
    // A good token while transitioning counts as "would be ok", never "ok".
    assertEquals(count('enforced="false",status="would be ok"'), 1);
    assertEquals(count('enforced="false",status="ok"'), undefined);
  } finally {
    client.close();
    await server.stop();
  }
  assertEquals(server.stderr().includes('"auth.error":"missing"'), true);
});

Deno.test("no token configured: every call counts as 'server disabled authentication'", async () => {
  const server = await startTestServer();
  const client = new TestClient(server.unixAddress);
  try {
    assertEquals(await codeOf(client.unary(HEALTH, {})), status.OK);
    assertEquals(
      await codeOf(client.unary(EXISTS, repo, { authorization: tokenAt("any", now()) })),
      status.OK,
    );
    const metrics = await scrape(server.metricsAddress);
    assertEquals(
      sample(
        metrics,
        "gitaly_authentications_total",
        'enforced="true",status="server disabled authentication"',
      ),
      2,
    );
  } finally {
    client.close();
    await server.stop();
  }
});

async function scrape(address: string): Promise<string> {
  return await (await fetch(`http://${address}/metrics`)).text();
}

/** The value of `name{labels}` in an exposition text (labels exactly as printed), if present. */
function sample(metrics: string, name: string, labels: string): number | undefined {
  const line = metrics.split("\n").find((l) => l.startsWith(`${name}{${labels}} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(" ") + 1));
}
