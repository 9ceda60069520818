/**
 * Where Gitaly keeps object pools, shared by the pool RPCs and housekeeping
 * (pools are never pruned).
 *
 * @module
 */

/** Where Gitaly keeps pools: `@pools/ab/cd/abcd…(64 hex).git`. */
const POOL_PATH = /^@pools\/([0-9a-f]{2})\/([0-9a-f]{2})\/([0-9a-f]{64})\.git$/;

/** Whether `relativePath` is where a pool repository lives. */
export function isPoolPath(relativePath: string): boolean {
  const match = POOL_PATH.exec(relativePath);
  return match !== null && match[3].startsWith(match[1] + match[2]);
}
