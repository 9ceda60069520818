/**
 * Hook output as response messages: stdout and stderr chunks go out one
 * message at a time, in the order they were written.
 *
 * @module
 */
import { concatBytes } from "../../git/command.ts";
import type { HookOutput } from "./chain.ts";

/** A {@link HookOutput} that sends `{ stdout }` / `{ stderr }` messages through `send`. */
export function sendingOutput(
  send: (response: { stdout?: Uint8Array; stderr?: Uint8Array }) => Promise<void>,
): HookOutput {
  let last: Promise<void> = Promise.resolve();
  const queue = (message: { stdout?: Uint8Array; stderr?: Uint8Array }) => {
    last = last.then(() => send(message));
    return last;
  };
  return {
    stdout: (chunk) => chunk.length ? queue({ stdout: chunk }) : Promise.resolve(),
    stderr: (chunk) => chunk.length ? queue({ stderr: chunk }) : Promise.resolve(),
  };
}

/** Reads a client stream's `stdin` fields to the end. */
export async function readStdin<Req extends { stdin?: Uint8Array }>(
  rest: AsyncIterator<Req>,
): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  while (true) {
    const next = await rest.next();
    if (next.done) break;
    const data = next.value.stdin;
    if (data?.length) parts.push(data);
  }
  return concatBytes(parts);
}
