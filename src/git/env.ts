/**
 * The environment every git child process runs in.
 *
 * Git children start from an empty environment. Only a short allow-list is
 * copied from the server's own environment, then a fixed set of variables
 * makes git ignore machine- and user-wide configuration and never prompt.
 * Per-call variables (GIT_PROTOCOL, quarantine directories, …) go on top.
 *
 * @module
 */

/**
 * Variables copied from the server's environment when it has them.
 *
 * - PATH: git runs hooks, `sh`, ssh helpers and its own dashed programs.
 * - HOME, TMPDIR, TZ, LD_LIBRARY_PATH: basic process hygiene.
 * - GIT_EXEC_PATH: a relocated git installation must still find its helpers.
 * - proxy variables: fetches from remote URLs honour the operator's proxy.
 * - GIT_TRACE*: lets an operator debug git by setting them on the server.
 */
export const INHERITED_ENV_VARS: readonly string[] = [
  "PATH",
  "HOME",
  "TMPDIR",
  "TZ",
  "LD_LIBRARY_PATH",
  "GIT_EXEC_PATH",
  "all_proxy",
  "http_proxy",
  "HTTP_PROXY",
  "https_proxy",
  "HTTPS_PROXY",
  "no_proxy",
  "NO_PROXY",
  "GIT_TRACE",
  "GIT_TRACE_PACKET",
  "GIT_TRACE_PACK_ACCESS",
  "GIT_TRACE_PERFORMANCE",
  "GIT_TRACE_SETUP",
];

/**
 * Variables set on every git child, after the inherited ones.
 *
 * - GIT_TERMINAL_PROMPT=0: a credential prompt would hang the RPC forever.
 * - GIT_CONFIG_NOSYSTEM=1: ignore /etc/gitconfig; behaviour comes from the
 *   repository and from the server's `[[git.config]]` only.
 * - GIT_CONFIG_GLOBAL=/dev/null: ignore ~/.gitconfig (git ≥ 2.32).
 * - XDG_CONFIG_HOME=/dev/null: ignore ~/.config/git/{config,attributes,ignore};
 *   git treats the resulting paths as missing.
 * - GIT_ATTR_NOSYSTEM=1: ignore the system-wide gitattributes file.
 * - LANG=C: messages in English and untranslated, so stderr can be matched.
 */
export const FIXED_GIT_ENV: Readonly<Record<string, string>> = Object.freeze({
  GIT_TERMINAL_PROMPT: "0",
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_CONFIG_GLOBAL: "/dev/null",
  XDG_CONFIG_HOME: "/dev/null",
  GIT_ATTR_NOSYSTEM: "1",
  LANG: "C",
});

/**
 * Picks the allow-listed variables out of an environment lookup.
 * Defaults to the server's own environment (needs `--allow-env`).
 */
export function inheritedEnv(
  lookup: (name: string) => string | undefined = (name) => Deno.env.get(name),
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of INHERITED_ENV_VARS) {
    const value = lookup(name);
    if (value !== undefined) env[name] = value;
  }
  return env;
}

/**
 * The full environment of one child: inherited essentials, then the fixed
 * git variables, then the caller's extras (which may override either).
 */
export function childEnv(
  inherited: Readonly<Record<string, string>>,
  extra: Readonly<Record<string, string>> | undefined,
): Record<string, string> {
  return { ...inherited, ...FIXED_GIT_ENV, ...extra };
}
