/**
 * Builds the Go programs under tests/interop/ once and reuses them: a binary in
 * tests/interop/bin/ (gitignored) is rebuilt only when a .go, go.mod or go.sum
 * file of its module is newer. Tests that need Go skip when it is missing.
 *
 * @module
 */
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
 * building it first when missing or stale. Throws with go's output on failure.
 */
export async function goBinary(module: string): Promise<string> {
  if (!GO) throw new Error("go is not installed");
  const moduleDir = join(INTEROP_DIR, module);
  const binary = join(BIN_DIR, module);
  if (await isFresh(binary, moduleDir)) return binary;
  await Deno.mkdir(BIN_DIR, { recursive: true });
  // Build under a unique name and rename: parallel test files may race here.
  const temporary = `${binary}.${crypto.randomUUID()}.tmp`;
  const result = await new Deno.Command(GO, {
    args: ["build", "-o", temporary, "."],
    cwd: moduleDir,
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

async function isFresh(binary: string, moduleDir: string): Promise<boolean> {
  let built: Date | null;
  try {
    built = (await Deno.stat(binary)).mtime;
  } catch {
    return false;
  }
  for await (const entry of Deno.readDir(moduleDir)) {
    if (!entry.isFile || !/\.go$|^go\.(mod|sum)$/.test(entry.name)) continue;
    const changed = (await Deno.stat(join(moduleDir, entry.name))).mtime;
    if (!built || !changed || changed > built) return false;
  }
  return true;
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
 * Installs a Go program by module path and version (e.g.
 * `gitlab.com/gitlab-org/gitaly/v16/cmd/gitaly-ssh@v16.7.0`) into
 * tests/interop/bin/<name>-<version>, once, and returns its path.
 */
export async function goInstall(packageAtVersion: string): Promise<string> {
  if (!GO) throw new Error("go is not installed");
  const [pkg, version] = packageAtVersion.split("@");
  const name = `${pkg.split("/").pop()}-${version}`;
  const binary = join(BIN_DIR, name);
  if (await Deno.stat(binary).then(() => true, () => false)) return binary;
  const gobin = await Deno.makeTempDir({ dir: await ensureBinDir(), prefix: ".install-" });
  try {
    const result = await new Deno.Command(GO, {
      args: ["install", packageAtVersion],
      env: { GOBIN: gobin, GOFLAGS: "-mod=mod" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!result.success) {
      throw new Error(
        `go install ${packageAtVersion} failed:\n${new TextDecoder().decode(result.stderr)}`,
      );
    }
    await Deno.rename(join(gobin, pkg.split("/").pop()!), binary);
    return binary;
  } finally {
    await Deno.remove(gobin, { recursive: true }).catch(() => {});
  }
}

async function ensureBinDir(): Promise<string> {
  await Deno.mkdir(BIN_DIR, { recursive: true });
  return BIN_DIR;
}
