/**
 * A minimal SNTP (RFC 4330) client: one query, the clock offset, and the
 * validity checks a careful client makes of the answer (stratum, kiss of
 * death, leap alarm, dispersion, freshness of the server's clock).
 *
 * @module
 */
import dgram from "node:dgram";

/** The answer of an NTP server, as far as the offset check needs it. */
export interface NtpAnswer {
  /** Our clock minus the server's, corrected for the round trip, in ms (positive: we are behind). */
  offsetMs: number;
  stratum: number;
  leap: number;
  rootDelayMs: number;
  rootDispersionMs: number;
  /** Milliseconds between the server's reference time and its transmit time. */
  freshnessMs: number;
  kissCode: string;
}

/** Seconds between 1900 (NTP's epoch) and 1970. */
const NTP_EPOCH_OFFSET = 2208988800;
const MAX_POLL_INTERVAL_MS = 36 * 3600 * 1000 * 1.0; // about 2^17 s
const MAX_DISPERSION_MS = 16_000;

/** Splits `host[:port]` (IPv6 in brackets); the port defaults to 123. */
export function ntpAddress(host: string): { hostname: string; port: number } {
  const v6 = /^\[(.*)\](?::(\d+))?$/.exec(host);
  if (v6) return { hostname: v6[1], port: Number(v6[2] ?? 123) };
  const colon = host.lastIndexOf(":");
  if (colon > 0 && host.indexOf(":") === colon) {
    return { hostname: host.slice(0, colon), port: Number(host.slice(colon + 1)) };
  }
  return { hostname: host, port: 123 };
}

/** Sends one client request to `host` and waits (at most `timeoutMs`) for its answer. */
export function queryNtp(host: string, timeoutMs = 5000, signal?: AbortSignal): Promise<NtpAnswer> {
  const { hostname, port } = ntpAddress(host);
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket(hostname.includes(":") ? "udp6" : "udp4");
    let done = false;
    const finish = (error: Error | null, answer?: NtpAnswer) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      try {
        socket.close();
      } catch {
        // already closed
      }
      if (error) reject(error);
      else resolve(answer!);
    };
    const onAbort = () =>
      finish(signal!.reason instanceof Error ? signal!.reason : new Error("aborted"));
    signal?.addEventListener("abort", onAbort, { once: true });
    const timer = setTimeout(
      () => finish(new Error(`read udp ${hostname}:${port}: i/o timeout`)),
      timeoutMs,
    );
    const request = new Uint8Array(48);
    request[0] = (0 << 6) | (4 << 3) | 3; // no leap warning, version 4, client mode
    const sent = Date.now();
    writeTimestamp(request, 40, sent);
    socket.on("error", (error) => finish(error));
    socket.on("message", (message: Uint8Array) => {
      const received = Date.now();
      if (message.byteLength < 48) return finish(new Error("invalid NTP response: too short"));
      const view = new DataView(message.buffer, message.byteOffset, message.byteLength);
      const mode = message[0] & 7;
      if (mode !== 4 && mode !== 5) return finish(new Error("invalid NTP response: not a server"));
      const originate = readTimestamp(view, 24);
      if (Math.abs(originate - sent) > 1) {
        return finish(new Error("invalid NTP response: wrong origin"));
      }
      const receive = readTimestamp(view, 32);
      const transmit = readTimestamp(view, 40);
      const reference = readTimestamp(view, 16);
      finish(null, {
        offsetMs: ((receive - sent) + (transmit - received)) / 2,
        stratum: message[1],
        leap: message[0] >> 6,
        rootDelayMs: shortFormatMs(view.getUint32(4)),
        rootDispersionMs: shortFormatMs(view.getUint32(8)),
        freshnessMs: transmit - reference,
        kissCode: message[1] === 0 ? new TextDecoder().decode(message.subarray(12, 16)) : "",
      });
    });
    socket.send(request, port, hostname, (error) => {
      if (error) finish(error);
    });
  });
}

/** Why an answer cannot be trusted, or undefined when it can. */
export function ntpAnswerProblem(answer: NtpAnswer): string | undefined {
  if (answer.stratum === 0) return `kiss of death received: ${answer.kissCode}`;
  if (answer.stratum >= 16) return "invalid stratum in response";
  if (answer.leap === 3) return "invalid leap second";
  if (answer.freshnessMs > MAX_POLL_INTERVAL_MS) return "server clock not fresh";
  if (answer.freshnessMs < 0) return "invalid time reported";
  if (answer.rootDelayMs / 2 + answer.rootDispersionMs > MAX_DISPERSION_MS) {
    return "invalid dispersion in response";
  }
  return undefined;
}

/** Writes `ms` (Unix milliseconds) as a 64-bit NTP timestamp at `offset`. */
export function writeTimestamp(buffer: Uint8Array, offset: number, ms: number): void {
  const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  const seconds = Math.floor(ms / 1000) + NTP_EPOCH_OFFSET;
  const fraction = Math.round(((ms % 1000) / 1000) * 0x100000000) >>> 0;
  view.setUint32(offset, seconds >>> 0);
  view.setUint32(offset + 4, fraction);
}

function readTimestamp(view: DataView, offset: number): number {
  const seconds = view.getUint32(offset);
  const fraction = view.getUint32(offset + 4);
  return (seconds - NTP_EPOCH_OFFSET) * 1000 + (fraction / 0x100000000) * 1000;
}

function shortFormatMs(value: number): number {
  return ((value >>> 16) + (value & 0xffff) / 0x10000) * 1000;
}
