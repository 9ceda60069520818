/**
 * Packfile negotiation statistics, checked against what Gitaly's parser
 * (internal/git/stats) reports for the same requests.
 */
import {
  NegotiationParser,
  parseNegotiation,
} from "../../src/service/shared/packfile_negotiation.ts";
import { assertEquals } from "../helpers/assert.ts";

const OID_A = "a".repeat(40);
const OID_B = "b".repeat(40);

function pkt(line: string): string {
  return (line.length + 4).toString(16).padStart(4, "0") + line;
}

function request(...parts: string[]): Uint8Array {
  return new TextEncoder().encode(parts.join(""));
}

Deno.test("a v0 clone request: wants, caps, deepen, filter; done ends the parse uncounted", () => {
  const body = request(
    pkt(`want ${OID_A} multi_ack_detailed side-band-64k ofs-delta\n`),
    pkt(`want ${OID_B}\n`),
    pkt(`shallow ${OID_B}\n`),
    pkt("deepen 1\n"),
    pkt("filter blob:none\n"),
    "0000",
    pkt(`have ${OID_A}\n`),
    pkt("done\n"),
    pkt(`have ${OID_B}\n`), // after done: ignored
  );
  const parser = parseNegotiation(body);
  assertEquals(parser.error, undefined);
  assertEquals(parser.stats, {
    payload_size: 88 + 45 + 48 + 8 + 16 + 0 + 45 + 4, // `done` adds its size, not a packet
    packets: 7,
    caps: ["multi_ack_detailed", "side-band-64k", "ofs-delta"],
    wants: 2,
    haves: 1,
    shallows: 1,
    deepen: "deepen 1",
    filter: "blob:none",
  });
});

Deno.test("a v2 fetch counts delim and flush packets and has no caps", () => {
  const body = request(
    pkt("command=fetch\n"),
    pkt("agent=git/2.39.5\n"),
    "0001",
    pkt("thin-pack\n"),
    pkt(`want ${OID_A}\n`),
    pkt("done\n"),
    "0000",
  );
  const parser = parseNegotiation(body);
  assertEquals(parser.error, undefined);
  assertEquals(parser.stats.packets, 5);
  assertEquals(parser.stats.wants, 1);
  assertEquals(parser.stats.caps, []);
  assertEquals(parser.stats.payload_size, 13 + 16 + 0 + 9 + 45 + 4);
});

Deno.test("requests split anywhere parse the same", () => {
  const body = request(pkt(`want ${OID_A} ofs-delta\n`), "0000", pkt(`have ${OID_B}\n`), "0000");
  const whole = parseNegotiation(body).stats;
  for (let split = 1; split < body.length; split++) {
    const parser = new NegotiationParser();
    parser.push(body.subarray(0, split));
    parser.push(body.subarray(split));
    parser.finish();
    assertEquals(parser.stats, whole, `split at ${split}`);
  }
});

Deno.test("malformed requests fail and keep what was counted before", () => {
  const cases: [Uint8Array, string, number][] = [
    [request(pkt("want\n")), "invalid 'want' for packet 0", 0],
    [
      request(pkt(`want ${OID_A} a\n`), pkt(`want ${OID_B} b\n`)),
      "capabilities announced multiple times in packet 1",
      1,
    ],
    [request(pkt(`have ${OID_A} x\n`)), "invalid 'have' for packet 0", 0],
    [request("0000"), "no 'want' sent by client", 1],
    [request(pkt(`want ${OID_A}\n`), "00"), "unexpected EOF", 1],
    [request("zzzz"), "pktLineSplitter: invalid length header", 0],
  ];
  for (const [body, error, packets] of cases) {
    const parser = parseNegotiation(body);
    assertEquals(parser.error, error);
    assertEquals(parser.stats.packets, packets, error);
  }
});
