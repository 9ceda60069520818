/**
 * The server's runtime directory: a private directory (under `runtime_dir`
 * when configured, else the system temp dir) holding the hook scripts git
 * runs (`hooks/<name>`, passed as `core.hooksPath`, and the pack-objects
 * hook), the hook socket they forward to (`hooks.sock`, served in-process)
 * and the internal gRPC socket (`internal.sock`). With Perl on the PATH
 * (git depends on it) each hook is a small Perl client of the hook socket,
 * which starts in milliseconds; where that socket does not answer, and
 * without Perl, the hook is a shell script (`fallback/<name>`) that execs
 * our own binary's `hooks` subcommand with the same Deno executable and
 * `main.ts` the server runs with (or the compiled binary itself), which
 * calls the HookService over the internal socket.
 * Removed when the server stops or the process exits; directories left
 * behind by a server that was killed are pruned when the next one starts.
 *
 * @module
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { findOnPath } from "../../git/command.ts";
import { gitalySshRuntimeEnv, isCompiledBinary, shellQuote } from "../remote/gitaly_ssh_command.ts";

/** The hooks git runs during a push, each forwarded to the HookService. */
export const HOOK_NAMES = [
  "pre-receive",
  "update",
  "post-receive",
  "reference-transaction",
] as const;

/** The script git runs as `uploadpack.packObjectsHook` (it appends `git pack-objects …`). */
export const PACK_OBJECTS_HOOK = "pack-objects";

/** Directory names: the prefix, then the owning process id. */
const DIR_PREFIX = "gitaly-hooks-";

/** Our entry point, for `deno run`. */
const MAIN_TS = new URL("../../../main.ts", import.meta.url);

/** The command line that runs the `hooks` subcommand (git's hook name and arguments follow). */
export function hooksCommandLine(): string {
  const exec = Deno.execPath();
  const argv = isCompiledBinary()
    ? [exec, "hooks"]
    : [exec, "run", "--allow-all", "--no-prompt", fileURLToPath(MAIN_TS), "hooks"];
  return argv.map(shellQuote).join(" ");
}

/**
 * One script serves every hook and learns which from the name git ran it
 * under. It restores what Deno needs (git's environment is a clean one).
 * Two hooks that would do nothing skip starting the subcommand (git runs
 * them per ref, so this is what makes large pushes fast): update when no
 * custom update hook can exist (git runs hooks inside the repository) and
 * there is no transaction to synchronize with, and
 * reference-transaction when the payload carries no transaction to vote
 * on or git reports an aborted transaction (which never votes). The
 * HookService would answer all of these with success.
 */
export function hookScript(
  customHooksDir: string | undefined,
  commandLine: string = hooksCommandLine(),
): string {
  const exports = Object.entries(gitalySshRuntimeEnv())
    .map(([key, value]) => `export ${key}=${shellQuote(value)}\n`).join("");
  const global = customHooksDir ? ` || [ -e ${shellQuote(`${customHooksDir}/update.d`)} ]` : "";
  return `#!/bin/sh\n# Written by the Gitaly server; removed when it stops.\n${exports}` +
    `untransacted() {\n` +
    `  printf %s "$GITALY_HOOKS_PAYLOAD" | base64 -d 2>/dev/null | grep -q '"transaction":null'\n` +
    `}\n` +
    `case "\${0##*/}" in\n` +
    `update)\n` +
    `  [ -e custom_hooks/update ] || [ -e custom_hooks/update.d ]${global} || ! untransacted ||` +
    ` exit 0 ;;\n` +
    `reference-transaction)\n` +
    `  if [ "$1" = aborted ] || untransacted; then\n` +
    `    cat >/dev/null\n    exit 0\n  fi ;;\n` +
    `esac\n` +
    `exec ${commandLine} "\${0##*/}" "$@"\n`;
}

/**
 * The Perl hook: forwards the hook named by `$0` with its arguments,
 * environment and stdin to `socket` (the protocol of the hook socket) and
 * exits with the status the server sends; where the socket does not
 * answer, execs `fallbackDir/<name>` instead, before reading any input.
 * Only Perl's core `Socket` module is used.
 */
export function perlHookScript(perl: string, socket: string, fallbackDir: string): string {
  const quote = (text: string) => `'${text.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`;
  return `#!${perl}
# Written by the Gitaly server; removed when it stops. Forwards this hook to
# the server over its hook socket, or runs the fallback hook without it.
use strict;
use warnings;
use Socket;

my $socket = ${quote(socket)};
my $fallback = ${quote(fallbackDir)};
my $name = $0;
$name =~ s{.*/}{};
$SIG{PIPE} = 'IGNORE';

sub fail { print STDERR "$name: $_[0]\n"; exit 1; }
sub pkt {
  my ($data) = @_;
  fail('argument or environment entry too long') if length($data) > 65516;
  return sprintf('%04x', length($data) + 4) . $data;
}
sub put {
  my ($fh, $data, $length, $offset) = @_;
  while ($length > 0) {
    my $n = syswrite($fh, $data, $length, $offset);
    if (!defined $n) { next if $!{EINTR}; return 0; }
    $length -= $n;
    $offset += $n;
  }
  return 1;
}
sub get {
  my ($fh, $length) = @_;
  my $data = '';
  while (length($data) < $length) {
    my $n = sysread($fh, $data, $length - length($data), length($data));
    if (!defined $n) { next if $!{EINTR}; fail("reading from the server: $!"); }
    return undef if $n == 0;
  }
  return $data;
}

# A cached answer: side-band packets read from the cache's file up to $size.
my ($file, $filepos, $pending) = (undef, 0, '');
sub follow {
  my ($path, $size) = @_;
  while ($filepos < $size) {
    my $want = $size - $filepos;
    $want = 1048576 if $want > 1048576;
    my $n = sysread($file, $pending, $want, length($pending));
    if (!defined $n) { next if $!{EINTR}; fail("reading $path: $!"); }
    fail("$path ended early") if $n == 0;
    $filepos += $n;
    my ($at, $length) = (0, length($pending));
    while ($length - $at >= 4) {
      my $header = substr($pending, $at, 4);
      fail("invalid packet in $path") unless $header =~ /^[0-9a-f]{4}$/ && hex($header) > 4;
      my $packet = hex($header);
      last if $at + $packet > $length;
      my $band = ord(substr($pending, $at + 4, 1));
      if ($band == 1) {
        put(\*STDOUT, $pending, $packet - 5, $at + 5) or fail("writing stdout: $!");
      } elsif ($band == 2) {
        put(\*STDERR, $pending, $packet - 5, $at + 5);
      } else {
        fail("invalid band $band in $path");
      }
      $at += $packet;
    }
    substr($pending, 0, $at) = '' if $at;
  }
}

my $conn;
unless (socket($conn, AF_UNIX, SOCK_STREAM, 0) && connect($conn, pack_sockaddr_un($socket))) {
  my $hook = "$fallback/$name";
  exec { $hook } $hook, @ARGV or fail("exec $hook: $!");
}
my $request = join('', map { pkt("a$_") } $name, @ARGV);
$request .= pkt("e$_=$ENV{$_}") for sort keys %ENV;
$request .= '0000';
# A server that answers before it read everything (a refusal) closes its end:
# its answer is still there to read.
if (put($conn, $request, length($request), 0)) {
  my $chunk;
  for (;;) {
    my $n = sysread(STDIN, $chunk, 65516);
    if (!defined $n) { next if $!{EINTR}; last; }
    last if $n == 0;
    my $packet = sprintf('%04x', $n + 4) . $chunk;
    put($conn, $packet, length($packet), 0) or last;
  }
  put($conn, '0000', 4, 0);
}
for (;;) {
  my $header = get($conn, 4);
  fail('the server closed the connection') unless defined $header;
  fail("invalid packet from the server: $header") unless $header =~ /^[0-9a-f]{4}$/;
  my $length = hex($header);
  next if $length < 5;
  my $packet = get($conn, $length - 4);
  fail('the server closed the connection') unless defined $packet;
  my $band = ord($packet);
  if ($band == 1) {
    put(\*STDOUT, $packet, $length - 5, 1) or fail("writing stdout: $!");
  } elsif ($band == 2) {
    put(\*STDERR, $packet, $length - 5, 1);
  } elsif ($band == 3) {
    fail('the cached answer ended inside a packet') if length($pending);
    exit(substr($packet, 1) + 0);
  } elsif ($band == 4) {
    my ($size, $path) = split(/ /, substr($packet, 1), 2);
    unless ($file) { open($file, '<:raw', $path) or fail("opening $path: $!"); }
    follow($path, $size);
  } else {
    fail("invalid band $band from the server");
  }
}
`;
}

/** Creates the runtime directory and removes it at exit. */
export class HooksRuntime {
  #dir?: string;
  #onUnload = () => this.closeSync();

  /**
   * `root`: where to create the directory (default: the system temp dir);
   * `customHooksDir`: the global custom hooks (`[hooks] custom_hooks_dir`).
   */
  constructor(
    readonly root?: string,
    readonly customHooksDir?: string,
    /** The Perl for the hooks (default: `perl` on the PATH); "" for none. */
    readonly perl?: string,
  ) {}

  /** Creates the directory and writes the hook scripts; idempotent. */
  async prepare(): Promise<void> {
    if (this.#dir) return;
    const root = this.root ?? tempDirectory();
    await Deno.mkdir(root, { recursive: true });
    await pruneStaleDirs(root);
    const dir = await Deno.makeTempDir({ dir: root, prefix: `${DIR_PREFIX}${Deno.pid}-` });
    this.#dir = dir;
    globalThis.addEventListener("unload", this.#onUnload);
    await Deno.mkdir(join(dir, "hooks"));
    await Deno.mkdir(join(dir, "fallback"));
    const perl = this.perl === undefined
      ? findOnPath("perl", Deno.env.get("PATH") ?? "")
      : this.perl;
    const fallback = hookScript(this.customHooksDir);
    const forward = perl && perlHookScript(perl, this.hookSocket, join(dir, "fallback"));
    for (const hook of [...HOOK_NAMES, PACK_OBJECTS_HOOK]) {
      await writeExecutable(join(dir, "fallback", hook), fallback);
      await writeExecutable(join(dir, "hooks", hook), forward || fallback);
    }
  }

  /** The runtime directory itself. */
  get dir(): string {
    if (!this.#dir) throw new Error("hooks runtime not prepared");
    return this.#dir;
  }

  /** The directory to pass as `core.hooksPath`. */
  get hooksDir(): string {
    return join(this.dir, "hooks");
  }

  /** The command to set as `uploadpack.packObjectsHook`. */
  get packObjectsHook(): string {
    return join(this.hooksDir, PACK_OBJECTS_HOOK);
  }

  /** The hook socket the Perl hooks forward to (see `HookSocket`). */
  get hookSocket(): string {
    return join(this.dir, "hooks.sock");
  }

  /** The Unix socket the server listens on for its own hooks' gRPC calls. */
  get internalSocket(): string {
    return join(this.dir, "internal.sock");
  }

  /** Removes the directory (idempotent); runs automatically when the process exits. */
  closeSync(): void {
    globalThis.removeEventListener("unload", this.#onUnload);
    const dir = this.#dir;
    this.#dir = undefined;
    if (dir) {
      try {
        Deno.removeSync(dir, { recursive: true });
      } catch {
        // Already gone.
      }
    }
  }
}

async function writeExecutable(path: string, text: string): Promise<void> {
  await Deno.writeTextFile(path, text, { mode: 0o755 });
  await Deno.chmod(path, 0o755); // the umask may have removed bits
}

/** Removes runtime directories whose owning process no longer exists. */
async function pruneStaleDirs(root: string): Promise<void> {
  try {
    for await (const entry of Deno.readDir(root)) {
      const pid = ownerPid(entry.name);
      if (!entry.isDirectory || pid === undefined || pid === Deno.pid || processExists(pid)) {
        continue;
      }
      await Deno.remove(join(root, entry.name), { recursive: true }).catch(() => {});
    }
  } catch {
    // An unreadable root only means nothing gets pruned.
  }
}

function ownerPid(name: string): number | undefined {
  const match = new RegExp(`^${DIR_PREFIX}(\\d+)-`).exec(name);
  return match ? Number(match[1]) : undefined;
}

function processExists(pid: number): boolean {
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch (error) {
    // Without /proc we cannot tell; keep the directory.
    return !(error instanceof Deno.errors.NotFound) || !procAvailable();
  }
}

function procAvailable(): boolean {
  try {
    Deno.statSync("/proc/self");
    return true;
  } catch {
    return false;
  }
}

function tempDirectory(): string {
  return Deno.env.get("TMPDIR") || "/tmp";
}
