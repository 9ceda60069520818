/**
 * `deno task rpc-coverage`: every RPC of every Gitaly service, marked as
 * implemented or not, with per-service counts and the total; with
 * `--missing`, only the RPCs that answer `Unimplemented`, one
 * `service/Method` a line.
 *
 * @module
 */
import { gitalyServices } from "../proto/mod.ts";
import type { ServiceDeps } from "../service/deps.ts";
import { gitalyImplementations } from "../service/registry.ts";

/** One service's methods, in proto order, each with whether it has a handler. */
export interface ServiceCoverage {
  service: string;
  /** Methods without a handler answer `Unimplemented`. */
  methods: { name: string; implemented: boolean }[];
}

/** Looks up handlers per service (factories do not touch their deps while building). */
export function rpcCoverage(): ServiceCoverage[] {
  const impls = gitalyImplementations({} as ServiceDeps);
  return gitalyServices().map((service) => {
    const handlers: Record<string, unknown> = impls.get(service.fullName)?.handlers ?? {};
    return {
      service: service.fullName,
      methods: service.methods.map(({ name }) => ({ name, implemented: name in handlers })),
    };
  });
}

/** The full listing: each service with its count, each method marked `[x]` or `[ ]`, the total. */
export function formatCoverage(rows: ServiceCoverage[]): string {
  const lines: string[] = [];
  let done = 0;
  let total = 0;
  for (const { service, methods } of rows) {
    const implemented = methods.filter((m) => m.implemented).length;
    done += implemented;
    total += methods.length;
    lines.push(`${service} ${implemented}/${methods.length}`);
    for (const m of methods) lines.push(`  [${m.implemented ? "x" : " "}] ${m.name}`);
  }
  lines.push(`total ${done}/${total} implemented, ${total - done} missing`);
  return lines.join("\n");
}

/** The gaps only: `service/Method` per unimplemented RPC. */
export function formatMissing(rows: ServiceCoverage[]): string {
  return rows.flatMap(({ service, methods }) =>
    methods.filter((m) => !m.implemented).map((m) => `${service}/${m.name}`)
  ).join("\n");
}

/** Runs the task: `rpc-coverage [--missing]`; returns the exit code. */
export function main(args: string[]): number {
  if (args.length > 1 || (args.length === 1 && args[0] !== "--missing")) {
    console.error("usage: deno task rpc-coverage [--missing]");
    return 2;
  }
  const rows = rpcCoverage();
  const text = args[0] === "--missing" ? formatMissing(rows) : formatCoverage(rows);
  if (text) console.log(text);
  return 0;
}

if (import.meta.main) Deno.exit(main(Deno.args));
