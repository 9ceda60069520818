/**
 * Enlarging the pipe a child writes its stdout into (Linux `F_SETPIPE_SZ`,
 * through libc by FFI): the pipe is opened once more by its /proc path,
 * resized and closed. With the default 64 KiB a producer stops as soon as
 * its reader falls 64 KiB behind, which on a busy machine (the reader
 * waiting for a CPU) throttles git to the reader's scheduling; a larger
 * pipe lets git run ahead. Best effort: without FFI permission or off
 * Linux nothing changes.
 *
 * @module
 */

const F_SETPIPE_SZ = 1031;
const O_WRONLY = 1;
const O_NONBLOCK = 0o4000;
const O_CLOEXEC = 0o2000000;

interface Libc {
  open(path: Uint8Array, flags: number): number;
  fcntl(fd: number, command: number, value: number): number;
  close(fd: number): number;
}

let libc: Libc | null | undefined;

function loadLibc(): Libc | null {
  if (libc !== undefined) return libc;
  libc = null;
  if (Deno.build.os !== "linux") return null;
  try {
    const lib = Deno.dlopen("libc.so.6", {
      open: { parameters: ["buffer", "i32"], result: "i32" },
      fcntl: { parameters: ["i32", "i32", "i32"], result: "i32" },
      close: { parameters: ["i32"], result: "i32" },
    });
    libc = lib.symbols as unknown as Libc;
  } catch {
    // No FFI permission or no glibc: pipes keep their size.
  }
  return libc;
}

/** Makes child `pid`'s stdout pipe at least `size` bytes; returns whether it did. */
export function enlargeStdoutPipe(pid: number, size: number): boolean {
  const c = loadLibc();
  if (!c) return false;
  const path = new TextEncoder().encode(`/proc/${pid}/fd/1\0`);
  const fd = c.open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return false;
  try {
    return c.fcntl(fd, F_SETPIPE_SZ, size) >= size;
  } finally {
    c.close(fd);
  }
}
