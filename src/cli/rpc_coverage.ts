/**
 * `deno task rpc-coverage`: how many RPCs of each Gitaly service have a
 * handler, and the total.
 *
 * @module
 */
import { gitalyServices } from "../proto/mod.ts";
import type { ServiceDeps } from "../service/deps.ts";
import { gitalyImplementations } from "../service/registry.ts";

/** One service's count. */
export interface ServiceCoverage {
  service: string;
  implemented: string[];
  total: number;
}

/** Counts handlers per service (factories do not touch their deps while building). */
export function rpcCoverage(): ServiceCoverage[] {
  const impls = gitalyImplementations({} as ServiceDeps);
  return gitalyServices().map((service) => {
    const handlers = impls.get(service.fullName)?.handlers ?? {};
    return {
      service: service.fullName,
      implemented: service.methods.map((m) => m.name).filter((name) => name in handlers),
      total: service.methods.length,
    };
  });
}

/** Formats the table printed by the task. */
export function formatCoverage(rows: ServiceCoverage[]): string {
  const width = Math.max(...rows.map((r) => r.service.length));
  const lines = rows.map((r) =>
    `${r.service.padEnd(width)}  ${String(r.implemented.length).padStart(3)}/${r.total}`
  );
  const done = rows.reduce((n, r) => n + r.implemented.length, 0);
  const total = rows.reduce((n, r) => n + r.total, 0);
  return [...lines, `${"total".padEnd(width)}  ${String(done).padStart(3)}/${total}`].join("\n");
}

if (import.meta.main) console.log(formatCoverage(rpcCoverage()));
