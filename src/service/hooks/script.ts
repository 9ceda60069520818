/**
 * The hook script the server installs as `core.hooksPath` for every
 * `git receive-pack`. It is embedded here (not read from disk) so a
 * compiled binary can write it out as well as `deno run` can.
 *
 * @module
 */

/** The hooks git runs during a push that we forward to custom hooks. */
export const FORWARDED_HOOKS = ["pre-receive", "update", "post-receive"] as const;

/** One of {@link FORWARDED_HOOKS}. */
export type ForwardedHook = typeof FORWARDED_HOOKS[number];

/** Environment variable naming the repository whose custom hooks run. */
export const REPO_PATH_ENV = "GITALY_HOOKS_REPO_PATH";
/** Environment variable naming the global custom hooks directory, if any. */
export const GLOBAL_DIR_ENV = "GITALY_HOOKS_GLOBAL_DIR";

/**
 * One script serves every hook; it learns which from the name git ran it
 * under. Like Gitaly it runs, with the same arguments and the same input,
 * `<repo>/custom_hooks/<hook>`, then `<repo>/custom_hooks/<hook>.d/*`, then
 * `<global dir>/<hook>.d/*`, skipping anything that is not an executable
 * file or ends in `~`. The first failure ends the chain and becomes the
 * hook's exit status, so a failing pre-receive hook rejects the push.
 * Hooks run inside the repository and inherit git's environment (GL_*,
 * quarantine directories, push options).
 */
export const HOOK_SCRIPT = `#!/bin/sh
# Written by the Gitaly server for its receive-packs; removed when it stops.
hook=\${0##*/}
repo=\$${REPO_PATH_ENV}
global=\$${GLOBAL_DIR_ENV}
unset ${REPO_PATH_ENV} ${GLOBAL_DIR_ENV}
if [ -z "\$repo" ]; then
  echo "custom hooks: repository path not set" >&2
  exit 1
fi
# Every hook reads the same input; the dot keeps trailing newlines intact.
input=\$(cat; printf .)
input=\${input%.}
for candidate in "\$repo/custom_hooks/\$hook" "\$repo/custom_hooks/\$hook.d"/* \${global:+"\$global/\$hook.d"/*}; do
  case \$candidate in *~) continue ;; esac
  [ -f "\$candidate" ] && [ -x "\$candidate" ] || continue
  printf '%s' "\$input" | (cd "\$repo" && exec "\$candidate" "\$@") || exit \$?
done
exit 0
`;
