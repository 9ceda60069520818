/**
 * An NTP responder on loopback for tests: answers every client request
 * with a clock `offsetMs` away from ours, or with a chosen stratum (0 is a
 * kiss of death), or not at all.
 *
 * @module
 */
import dgram from "node:dgram";
import { writeTimestamp } from "../../src/service/server/ntp.ts";

/** How the responder answers. */
export interface NtpResponderOptions {
  /** The server's clock minus ours, in ms. */
  offsetMs?: number;
  stratum?: number;
  /** Leap indicator (3: clock not synchronized). */
  leap?: number;
  /** Never answer. */
  silent?: boolean;
}

/** A running responder. */
export interface NtpResponder {
  /** `127.0.0.1:port`, as a request's `ntp_host`. */
  host: string;
  /** Requests answered so far. */
  answered(): number;
  close(): Promise<void>;
}

/** Starts a responder on an ephemeral loopback port. */
export async function startNtpResponder(options: NtpResponderOptions = {}): Promise<NtpResponder> {
  const socket = dgram.createSocket("udp4");
  let answered = 0;
  socket.on("message", (request: Uint8Array, peer: { address: string; port: number }) => {
    if (options.silent || request.byteLength < 48) return;
    const now = Date.now() + (options.offsetMs ?? 0);
    const answer = new Uint8Array(48);
    answer[0] = ((options.leap ?? 0) << 6) | (4 << 3) | 4; // version 4, server mode
    answer[1] = options.stratum ?? 2;
    answer[2] = 6; // poll
    answer[3] = 0xec; // precision
    answer.set(new TextEncoder().encode("TEST"), 12); // reference id (kiss code at stratum 0)
    writeTimestamp(answer, 16, now - 1000); // reference time
    answer.set(request.subarray(40, 48), 24); // originate = the client's transmit time
    writeTimestamp(answer, 32, now); // receive
    writeTimestamp(answer, 40, now); // transmit
    answered++;
    socket.send(answer, peer.port, peer.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", () => resolve()));
  const { port } = socket.address() as { port: number };
  return {
    host: `127.0.0.1:${port}`,
    answered: () => answered,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
