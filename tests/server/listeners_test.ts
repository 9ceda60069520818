import { listenUnix } from "../../src/server/listeners.ts";
import { assert, assertEquals } from "../helpers/assert.ts";

/** The socket inodes a process holds open. */
async function socketInodes(pid: number): Promise<Set<string>> {
  const inodes = new Set<string>();
  for await (const entry of Deno.readDir(`/proc/${pid}/fd`)) {
    const target = await Deno.readLink(`/proc/${pid}/fd/${entry.name}`).catch(() => "");
    const match = /^socket:\[(\d+)\]$/.exec(target);
    if (match) inodes.add(match[1]);
  }
  return inodes;
}

/** The inode of the socket listening at `path`, from /proc/net/unix. */
async function listeningInode(path: string): Promise<string> {
  const table = await Deno.readTextFile("/proc/net/unix");
  const line = table.split("\n").find((l) => l.endsWith(` ${path}`));
  assert(line, `no socket at ${path}`);
  return line.trim().split(/\s+/)[6];
}

Deno.test("a child process does not inherit the Unix listener; a restart on its path works", async () => {
  const dir = await Deno.makeTempDir({ prefix: "listeners-" });
  const path = `${dir}/gitaly.socket`;
  try {
    const listener = await listenUnix(path, { grpc: (socket) => socket.destroy() });
    const inode = await listeningInode(path);
    assert((await socketInodes(Deno.pid)).has(inode), "the server holds its listener");
    const child = new Deno.Command("sleep", { args: ["30"], stdout: "null", stderr: "null" })
      .spawn();
    try {
      assertEquals((await socketInodes(child.pid)).has(inode), false);
      // With the server gone and the child still running, nothing accepts on the path,
      // so a new server replaces the stale socket file.
      await listener.close();
      const again = await listenUnix(path, { grpc: (socket) => socket.destroy() });
      await again.close();
    } finally {
      child.kill();
      await child.status;
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
