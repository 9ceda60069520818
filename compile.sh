#!/usr/bin/env bash
# Builds dist/deno-gitaly, one self-contained binary with every subcommand.
# `deno compile` needs the `denort` runtime: set DENORT_BIN to a denort
# binary to use it (deno reads that variable itself); otherwise deno tries to
# download one, which machines without internet access cannot do.
set -euo pipefail
cd "$(dirname "$0")"

if [[ -n "${DENO:-}" ]]; then
  deno_cmd=("$DENO")
elif command -v deno >/dev/null 2>&1; then
  deno_cmd=(deno)
elif [[ -x node_modules/.bin/deno ]]; then
  deno_cmd=(node_modules/.bin/deno)
else
  deno_cmd=(npx --yes deno@2.9.6)
fi

if [[ -n "${DENORT_BIN:-}" ]]; then
  [[ -x "$DENORT_BIN" ]] || { echo "compile.sh: DENORT_BIN=$DENORT_BIN is not an executable" >&2; exit 1; }
  export DENORT_BIN
  echo "compile.sh: using runtime $DENORT_BIN" >&2
fi

mkdir -p dist
if ! "${deno_cmd[@]}" compile --allow-all --output dist/deno-gitaly main.ts; then
  if [[ -z "${DENORT_BIN:-}" ]]; then
    cat >&2 <<'HINT'
compile.sh: deno compile failed. If the error above is a failed download of denort
(no internet access), use a local denort runtime of the same Deno version instead:
  DENORT_BIN=/path/to/denort ./compile.sh
denort comes as denort-<target>.zip with each Deno release
(e.g. https://dl.deno.land/release/v2.9.6/denort-x86_64-unknown-linux-gnu.zip);
download it where there is network, unzip it, and copy it here.
HINT
  fi
  exit 1
fi
echo "compile.sh: built dist/deno-gitaly" >&2
