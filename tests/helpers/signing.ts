/**
 * Throwaway signing keys for tests: a GPG key in a temporary GNUPGHOME and
 * an SSH key, with the git configuration (`-c` arguments) that makes
 * `git commit -S` / `git tag -s` use them.
 *
 * @module
 */
import { join } from "node:path";

/** Keys made by {@link makeSigningKeys}. */
export interface SigningKeys {
  /** Environment for git so it finds the GPG key (GNUPGHOME). */
  env: Record<string, string>;
  /** `-c` arguments for a GPG signature. */
  gpgConfig: string[];
  /** `-c` arguments for an SSH signature. */
  sshConfig: string[];
  /** Removes the keys. */
  remove(): Promise<void>;
}

async function run(cmd: string, args: string[], env: Record<string, string>): Promise<void> {
  const out = await new Deno.Command(cmd, { args, env, stdout: "piped", stderr: "piped" }).output();
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
}

/** Makes an ed25519 GPG key and an ed25519 SSH key in a temporary directory. */
export async function makeSigningKeys(): Promise<SigningKeys> {
  const dir = await Deno.makeTempDir({ prefix: "signing-" });
  const gnupgHome = join(dir, "gnupg");
  await Deno.mkdir(gnupgHome, { mode: 0o700 });
  const env = { GNUPGHOME: gnupgHome };
  await run("gpg", [
    "--batch",
    "--passphrase",
    "",
    "--quick-gen-key",
    "Test Signer <signer@example.com>",
    "ed25519",
    "sign",
    "never",
  ], env);
  const sshKey = join(dir, "ssh_key");
  await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "signer", "-f", sshKey], env);
  return {
    env,
    gpgConfig: ["-c", "gpg.format=openpgp", "-c", "user.signingkey=signer@example.com"],
    sshConfig: ["-c", "gpg.format=ssh", "-c", `user.signingkey=${sshKey}`],
    remove: async () => {
      await new Deno.Command("gpgconf", { args: ["--kill", "all"], env }).output().catch(() => {});
      await Deno.remove(dir, { recursive: true });
    },
  };
}
