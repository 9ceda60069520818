/**
 * Marking file descriptors close-on-exec. Deno's `node:net` opens a Unix
 * listening socket without `FD_CLOEXEC`, so every git the server spawns
 * would inherit the listener: after the server dies, a git still running
 * keeps the socket accepting connections nobody answers, and a restarted
 * server finds its address in use. Go (and so Gitaly) opens every socket
 * close-on-exec; this module does the same for the one Deno misses, through
 * libc's `fcntl`.
 *
 * @module
 */

const F_GETFD = 1;
const F_SETFD = 2;
const FD_CLOEXEC = 1;

type Fcntl = (fd: number, command: number, argument: number) => number;

let fcntl: Fcntl | null | undefined;

function loadFcntl(): Fcntl | null {
  if (fcntl !== undefined) return fcntl;
  try {
    const libc = Deno.dlopen("libc.so.6", {
      fcntl: { parameters: ["i32", "i32", "i32"], result: "i32" },
    });
    fcntl = (fd, command, argument) => libc.symbols.fcntl(fd, command, argument) as number;
  } catch {
    fcntl = null; // no libc.so.6 (not glibc) or no FFI permission
  }
  return fcntl;
}

/**
 * Sets `FD_CLOEXEC` on `fd`. Returns false when it could not (no FFI
 * permission, no glibc, or `fcntl` failed); the descriptor is then left as
 * it was.
 */
export function setCloseOnExec(fd: number): boolean {
  const call = loadFcntl();
  if (!call) return false;
  const flags = call(fd, F_GETFD, 0);
  if (flags < 0) return false;
  if (flags & FD_CLOEXEC) return true;
  return call(fd, F_SETFD, flags | FD_CLOEXEC) === 0;
}

/**
 * The descriptor of a `node:net` server's listening socket, where Deno's
 * implementation exposes it (its handle's `fd`), else undefined.
 */
export function listenerFd(server: object): number | undefined {
  const handle = (server as { _handle?: { fd?: unknown } })._handle;
  const fd = handle?.fd;
  return typeof fd === "number" && fd >= 0 ? fd : undefined;
}
