/**
 * Entry point: picks the subcommand and hands over to `src/cli`.
 *
 * @module
 */
import { main } from "./src/cli/mod.ts";

if (import.meta.main) Deno.exit(await main(Deno.args));
