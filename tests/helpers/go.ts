/**
 * Builds the Go programs under tests/interop/ once and reuses them: a binary in
 * tests/interop/bin/ (gitignored) is rebuilt only when a .go, go.mod or go.sum
 * file of its module is newer. Tests that need Go skip when it is missing.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** Root of the Go interop programs. */
export const INTEROP_DIR: string = fileURLToPath(new URL("../interop", import.meta.url));
const BIN_DIR = join(INTEROP_DIR, "bin");

/** The `go` executable, or undefined when there is none (PATH, then /usr/local/go/bin/go). */
export const GO: string | undefined = await findGo();

async function findGo(): Promise<string | undefined> {
  for (const candidate of ["go", "/usr/local/go/bin/go"]) {
    try {
      const { success } = await new Deno.Command(candidate, {
        args: ["version"],
        stdout: "null",
        stderr: "null",
      })
        .output();
      if (success) return candidate;
    } catch {
      // Not there; try the next one.
    }
  }
  return undefined;
}

/**
 * The path of the binary built from the Go module in `tests/interop/<module>`,
 * named by a hash of its sources so an unchanged module is built once and an
 * edited one is rebuilt. Throws with go's output on failure.
 */
export async function goBinary(module: string): Promise<string> {
  if (!GO) throw new Error("go is not installed");
  const moduleDir = join(INTEROP_DIR, module);
  const binary = join(BIN_DIR, `${module}-${await sourceHash(moduleDir)}`);
  if (await Deno.stat(binary).then(() => true, () => false)) return binary;
  await Deno.mkdir(BIN_DIR, { recursive: true });
  // Build under a unique name and rename: parallel test files may race here.
  const temporary = `${binary}.${crypto.randomUUID()}.tmp`;
  const result = await new Deno.Command(GO, {
    args: ["build", "-mod=readonly", "-trimpath", "-o", temporary, "."],
    cwd: moduleDir,
    env: { GOTOOLCHAIN: "local" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!result.success) {
    await Deno.remove(temporary).catch(() => {});
    const output = new TextDecoder().decode(result.stderr) +
      new TextDecoder().decode(result.stdout);
    throw new Error(`go build in ${moduleDir} failed:\n${output}`);
  }
  await Deno.rename(temporary, binary);
  return binary;
}

/** First 16 hex digits of SHA-256 over the names and contents of a module's .go, go.mod and go.sum files. */
async function sourceHash(moduleDir: string): Promise<string> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(moduleDir)) {
    if (entry.isFile && /\.go$|^go\.(mod|sum)$/.test(entry.name)) names.push(entry.name);
  }
  const hash = createHash("sha256");
  for (const name of names.sort()) {
    const content = await Deno.readFile(join(moduleDir, name));
    hash.update(`${name}\0${content.length}\0`).update(content);
  }
  return hash.digest("hex").slice(0, 16);
}

/** Runs a built Go program and returns its stdout; throws with stderr when it fails. */
export async function runGo(binary: string, args: string[] = []): Promise<string> {
  const result = await new Deno.Command(binary, { args, stdout: "piped", stderr: "piped" })
    .output();
  if (!result.success) {
    throw new Error(
      `${binary} ${args.join(" ")} failed:\n${new TextDecoder().decode(result.stderr)}`,
    );
  }
  return new TextDecoder().decode(result.stdout);
}

/**
 * Builds a published Go program by package path and module version (e.g.
 * `gitlab.com/gitlab-org/gitaly/v16/cmd/gitaly-ssh@v16.7.0`) into
 * tests/interop/bin/<name>-<version>, once, and returns its path. It builds
 * inside a throwaway module (`go get` + `go build`) because `go install
 * pkg@version` also asks the proxy for the module's version list, which it
 * refuses for some modules. `replace` takes `old=new@version` directives the
 * program's own go.mod has (a throwaway module does not inherit them).
 */
export async function goInstall(
  packageAtVersion: string,
  options: { module?: string; replace?: string[] } = {},
): Promise<string> {
  if (!GO) throw new Error("go is not installed");
  const [pkg, version] = packageAtVersion.split("@");
  const binary = join(await ensureBinDir(), `${pkg.split("/").pop()}-${version}`);
  if (await Deno.stat(binary).then(() => true, () => false)) return binary;
  const work = await Deno.makeTempDir({ prefix: "go-install-" });
  const go = (args: string[]) => runChecked(GO!, args, work);
  try {
    await go(["mod", "init", "interop.invalid/install"]);
    for (const directive of options.replace ?? []) await go(["mod", "edit", "-replace", directive]);
    await go(["get", `${options.module ?? moduleOf(pkg)}@${version}`]);
    const partial = `${binary}.${crypto.randomUUID()}.tmp`;
    await go(["build", "-o", partial, pkg]);
    await Deno.rename(partial, binary);
    return binary;
  } finally {
    await Deno.remove(work, { recursive: true }).catch(() => {});
  }
}

/** The module of a package path: up to and including a `/vN` element, or the first three elements. */
function moduleOf(pkg: string): string {
  const parts = pkg.split("/");
  const major = parts.findIndex((p) => /^v\d+$/.test(p));
  return parts.slice(0, major >= 0 ? major + 1 : 3).join("/");
}

async function runChecked(command: string, args: string[], cwd: string): Promise<void> {
  const result = await new Deno.Command(command, {
    args,
    cwd,
    env: { GOFLAGS: "-mod=mod" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!result.success) {
    throw new Error(`go ${args.join(" ")} failed:\n${new TextDecoder().decode(result.stderr)}`);
  }
}

async function ensureBinDir(): Promise<string> {
  await Deno.mkdir(BIN_DIR, { recursive: true });
  return BIN_DIR;
}
