/**
 * `deno task lint:proto` (`deno run -A src/proto/lint_cli.ts proto`): lints
 * every `*.proto` file in the given directory against Gitaly's conventions
 * (see `lint.ts`). Prints one line per violation and exits 1, or prints a
 * one-line summary and exits 0. A file that does not parse is reported and
 * exits 1 as well.
 *
 * @module
 */
import { parseProtoSet } from "./parse.ts";
import { readProtoDir } from "./sources.ts";
import { formatViolation, lintProtoSet } from "./lint.ts";
import { servicesIn } from "./declarations.ts";

/** Lints `dir`, writes the report, and returns the exit code. */
export async function runProtoLint(dir: string): Promise<number> {
  let set;
  try {
    set = parseProtoSet(await readProtoDir(dir));
  } catch (error) {
    console.error(`lint:proto: ${(error as Error).message}`);
    return 1;
  }
  const violations = lintProtoSet(set);
  for (const violation of violations) console.error(formatViolation(violation));
  if (violations.length > 0) return 1;
  const files = set.files.filter((f) => !f.bundled);
  const services = files.flatMap((f) => servicesIn(set.root, f.name));
  const methods = services.reduce((n, s) => n + s.methodsArray.length, 0);
  console.log(
    `lint:proto: ${files.length} files, ${services.length} services, ${methods} methods: no violations`,
  );
  return 0;
}

if (import.meta.main) {
  Deno.exit(await runProtoLint(Deno.args[0] ?? "proto"));
}
