/**
 * Parses a set of .proto files into one resolved protobufjs Root, remembering
 * which file declared what (the descriptor builder and the linter need that).
 *
 * Field names keep their proto spelling (`keepCase`), so decoded messages use
 * snake_case properties exactly as written in the .proto files.
 *
 * @module
 */
import protobuf from "./protobuf.ts";
import type { ProtoSource } from "./sources.ts";
import { DESCRIPTOR_PROTO, descriptorProtoJson, WELL_KNOWN_SOURCES } from "./well_known.ts";

/** What one .proto file declares at file level. */
export interface ProtoFile {
  /** Import name, e.g. `repository.proto` or `google/protobuf/timestamp.proto`. */
  name: string;
  /** Package, e.g. `gitaly`; empty when the file has none. */
  package: string;
  /** `proto2` unless the file says `syntax = "proto3"`. */
  syntax: "proto2" | "proto3";
  /** Imported file names in declaration order (`import public` included). */
  imports: string[];
  /** `import weak` file names. */
  weakImports: string[];
  /** File-level options as written (`go_package`, …). */
  options: Record<string, unknown>;
  /** True for the google/protobuf files bundled with this project rather than given as input. */
  bundled: boolean;
}

/** A parsed, resolved set of .proto files. */
export interface ProtoSet {
  /** Every type of every file, resolved; objects carry `filename`. */
  root: protobuf.Root;
  /** The files, each after the files it imports (then by name). */
  files: ProtoFile[];
}

const PARSE_OPTIONS = { keepCase: true } as const;

/**
 * Parses `sources` together with the bundled google/protobuf files and resolves
 * every reference. Throws with the file name on syntax errors, unknown imports
 * and unresolvable types.
 */
export function parseProtoSet(sources: readonly ProtoSource[]): ProtoSet {
  const root = new protobuf.Root();
  const files: ProtoFile[] = [loadDescriptorProto(root)];
  const given = new Set(sources.map((s) => s.name));
  for (const source of [...WELL_KNOWN_SOURCES.filter((s) => !given.has(s.name)), ...sources]) {
    const bundled = WELL_KNOWN_SOURCES.includes(source);
    files.push(parseInto(root, source, bundled));
  }
  checkImports(files);
  try {
    root.resolveAll();
  } catch (error) {
    throw new Error(`resolving proto types: ${(error as Error).message}`);
  }
  return { root, files: dependencyOrder(files) };
}

/** Adds descriptor.proto from its bundled JSON and tags its objects with the file name. */
function loadDescriptorProto(root: protobuf.Root): ProtoFile {
  const json = descriptorProtoJson() as { nested: { google: { nested: { protobuf: unknown } } } };
  const pkg = json.nested.google.nested.protobuf as protobuf.INamespace;
  root.addJSON(json.nested as Record<string, protobuf.AnyNestedObject>);
  const ns = root.lookup("google.protobuf") as protobuf.Namespace;
  for (const object of ns.nestedArray) object.filename = DESCRIPTOR_PROTO;
  return {
    name: DESCRIPTOR_PROTO,
    package: "google.protobuf",
    syntax: "proto2",
    imports: [],
    weakImports: [],
    options: { ...pkg.options },
    bundled: true,
  };
}

function parseInto(root: protobuf.Root, file: ProtoSource, bundled: boolean): ProtoFile {
  const text = dropEmptyStatements(file.source);
  // A private Root sees only this file, which is how its file-level options
  // (set on the package namespace) stay apart from other files' options.
  const alone = parseWithName(text, new protobuf.Root(), file.name);
  parseWithName(text, root, file.name);
  const pkg = alone.package ?? "";
  const ns = pkg ? alone.root.lookup(pkg) : alone.root;
  return {
    name: file.name,
    package: pkg,
    syntax: /\bsyntax\s*=\s*["']proto3["']/.test(text) ? "proto3" : "proto2",
    imports: alone.imports ?? [],
    weakImports: alone.weakImports ?? [],
    options: { ...ns?.options },
    bundled,
  };
}

function parseWithName(text: string, root: protobuf.Root, name: string): protobuf.IParserResult {
  // protobufjs tags top-level objects with this global while parsing.
  (protobuf.parse as unknown as { filename: string | null }).filename = name;
  try {
    return protobuf.parse(text, root, PARSE_OPTIONS);
  } catch (error) {
    throw new Error(`${name}: ${(error as Error).message}`);
  } finally {
    (protobuf.parse as unknown as { filename: string | null }).filename = null;
  }
}

function checkImports(files: ProtoFile[]): void {
  const known = new Set(files.map((f) => f.name));
  for (const file of files) {
    for (const imported of [...file.imports, ...file.weakImports]) {
      if (!known.has(imported)) throw new Error(`${file.name}: imports unknown file ${imported}`);
    }
  }
}

function dependencyOrder(files: ProtoFile[]): ProtoFile[] {
  const byName = new Map(files.map((f) => [f.name, f]));
  const ordered: ProtoFile[] = [];
  const state = new Map<string, "visiting" | "done">();
  const visit = (file: ProtoFile) => {
    if (state.get(file.name) === "done") return;
    if (state.get(file.name) === "visiting") throw new Error(`import cycle through ${file.name}`);
    state.set(file.name, "visiting");
    for (const dep of [...file.imports, ...file.weakImports]) visit(byName.get(dep)!);
    state.set(file.name, "done");
    ordered.push(file);
  };
  for (const file of [...files].sort((a, b) => a.name < b.name ? -1 : 1)) visit(file);
  return ordered;
}

/**
 * Blanks out empty statements (a `;` right after `;` or `{`), which protoc
 * accepts and protobufjs rejects. Strings and comments are left alone, and
 * lengths are kept so error line numbers stay right.
 */
export function dropEmptyStatements(text: string): string {
  const out = text.split("");
  let previous = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "/" && text[i + 1] === "/") {
      i = endOf(text, "\n", i + 2);
    } else if (c === "/" && text[i + 1] === "*") {
      i = endOf(text, "*/", i + 2);
    } else if (c === '"' || c === "'") {
      i = endOfString(text, i);
      previous = c;
    } else if (c === ";" && (previous === ";" || previous === "{")) {
      out[i] = " ";
    } else if (!/\s/.test(c)) {
      previous = c;
    }
  }
  return out.join("");
}

function endOf(text: string, marker: string, from: number): number {
  const at = text.indexOf(marker, from);
  return at < 0 ? text.length : at + marker.length - 1;
}

function endOfString(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    if (text[i] === "\\") i++;
    else if (text[i] === text[start]) return i;
  }
  return text.length;
}
