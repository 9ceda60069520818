/**
 * Reading .proto sources from disk. Only the generator and the linter use this;
 * the server never reads .proto files at run time.
 *
 * @module
 */
import { join, relative, sep } from "node:path";

/** One .proto file: its import name (e.g. `shared.proto`) and its text. */
export interface ProtoSource {
  /** The name other files import it by, relative to its proto root, `/`-separated. */
  name: string;
  /** The file's text. */
  source: string;
}

/**
 * Reads every `*.proto` file directly inside `dir` (not subdirectories: Gitaly
 * keeps test fixtures there), sorted by name.
 */
export async function readProtoDir(dir: string): Promise<ProtoSource[]> {
  const sources: ProtoSource[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isFile && entry.name.endsWith(".proto")) {
      sources.push({ name: entry.name, source: await Deno.readTextFile(join(dir, entry.name)) });
    }
  }
  return sortByName(sources);
}

/**
 * Reads every `*.proto` file under `dir`, recursively, named by its path
 * relative to `dir` (e.g. `grpc/health/v1/health.proto`), sorted by name.
 */
export async function readProtoTree(dir: string): Promise<ProtoSource[]> {
  const sources: ProtoSource[] = [];
  await collectTree(dir, dir, sources);
  return sortByName(sources);
}

async function collectTree(root: string, dir: string, into: ProtoSource[]): Promise<void> {
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) {
      await collectTree(root, path, into);
    } else if (entry.isFile && entry.name.endsWith(".proto")) {
      const name = relative(root, path).split(sep).join("/");
      into.push({ name, source: await Deno.readTextFile(path) });
    }
  }
}

function sortByName(sources: ProtoSource[]): ProtoSource[] {
  return sources.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}
