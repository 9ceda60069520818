/**
 * Where Gitaly keeps object pools: `@pools/ab/cd/abcd….git`, the directory
 * levels being the first bytes of a 64-hex-digit name.
 *
 * @module
 */

const POOL_PATH = /^@pools\/([0-9a-f]{2})\/([0-9a-f]{2})\/([0-9a-f]{64})\.git$/;

/** Whether `relativePath` is where a pool repository lives. */
export function isPoolPath(relativePath: string): boolean {
  const match = POOL_PATH.exec(relativePath);
  return match !== null && match[3].startsWith(match[1] + match[2]);
}
