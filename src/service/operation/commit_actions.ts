/**
 * UserCommitFiles' actions applied to an editable tree, with Gitaly's
 * index errors: the path checks done while the actions arrive
 * (`validatePath`), the edits (`applyAction`) and how their failures are
 * answered (`indexError`, structured as `UserCommitFilesError.index_update`).
 *
 * Paths are binary strings (one char per byte), see `src/git/tree_editor.ts`.
 *
 * @module
 */
import { goQuote } from "../../git/goquote.ts";
import {
  basePath,
  bytesOfBinary,
  cleanPath,
  type EditableEntry,
  TreeEditError,
  type TreeEditor,
} from "../../git/tree_editor.ts";
import { IndexError_ErrorType } from "../../proto/types.ts";
import { Code, GrpcError } from "../../server/errors.ts";

/** One action, its blob written (when it has content). */
export type CommitAction =
  | { kind: "create"; path: string; oid: string; executable: boolean }
  | { kind: "create_dir"; path: string }
  | { kind: "update"; path: string; oid: string }
  | { kind: "move"; path: string; newPath: string; oid?: string }
  | { kind: "delete"; path: string }
  | { kind: "chmod"; path: string; executable: boolean };

/** The known index error types (Gitaly's `indexErrorType`). */
export type IndexErrorType =
  | "directory_exists"
  | "directory_traversal"
  | "empty_path"
  | "file_exists"
  | "file_not_found"
  | "invalid_path";

const INDEX_ERRORS: Record<IndexErrorType, { code: Code; proto: IndexError_ErrorType }> = {
  directory_exists: {
    code: Code.ALREADY_EXISTS,
    proto: IndexError_ErrorType.ERROR_TYPE_DIRECTORY_EXISTS,
  },
  directory_traversal: {
    code: Code.INVALID_ARGUMENT,
    proto: IndexError_ErrorType.ERROR_TYPE_DIRECTORY_TRAVERSAL,
  },
  empty_path: { code: Code.INVALID_ARGUMENT, proto: IndexError_ErrorType.ERROR_TYPE_EMPTY_PATH },
  file_exists: { code: Code.ALREADY_EXISTS, proto: IndexError_ErrorType.ERROR_TYPE_FILE_EXISTS },
  file_not_found: { code: Code.NOT_FOUND, proto: IndexError_ErrorType.ERROR_TYPE_FILE_NOT_FOUND },
  invalid_path: {
    code: Code.INVALID_ARGUMENT,
    proto: IndexError_ErrorType.ERROR_TYPE_INVALID_PATH,
  },
};

const utf8 = new TextDecoder();

/** A binary-string path as text for messages. */
export function pathText(path: string): string {
  return utf8.decode(bytesOfBinary(path));
}

function indexMessage(type: IndexErrorType, path: string): string {
  switch (type) {
    case "directory_exists":
      return "A directory with this name already exists";
    case "directory_traversal":
      return "Path cannot include directory traversal";
    case "empty_path":
      return "You must provide a file path";
    case "file_exists":
      return "A file with this name already exists";
    case "file_not_found":
      return "A file with this name doesn't exist";
    case "invalid_path":
      return `invalid path: ${goQuote(pathText(path))}`;
  }
}

/** Gitaly's answer to an index error: its code, message and `UserCommitFilesError` detail. */
export function indexError(type: IndexErrorType, path: string): GrpcError {
  const { code, proto } = INDEX_ERRORS[type];
  return new GrpcError(code, indexMessage(type, path)).withDetail("gitaly.UserCommitFilesError", {
    index_update: { path: bytesOfBinary(path), error_type: proto },
  });
}

/**
 * An error Gitaly reports as its bare message (`Internal`), e.g. an edit
 * on a path git refuses: `invalid path: '.git/x'`.
 */
export function unknownIndexError(path: string): GrpcError {
  return new GrpcError(Code.INTERNAL, `invalid path: '${pathText(path)}'`);
}

/**
 * Gitaly's `validatePath` against the repository's path (a binary string):
 * the cleaned path relative to it, or an index error.
 */
export function validateActionPath(repoPath: string, path: string): string {
  if (path === "") throw indexError("empty_path", "");
  if (path.includes("//")) throw indexError("invalid_path", path);
  const root = cleanPath(repoPath);
  const absolute = cleanPath(`${root}/${path}`);
  if (absolute !== root && !absolute.startsWith(root === "/" ? "/" : root + "/")) {
    throw indexError("directory_traversal", path);
  }
  return absolute === root ? "." : absolute.slice(root === "/" ? 1 : root.length + 1);
}

/** Gitaly's `translateError`: a tree edit's failure as the RPC answers it. */
function translate(error: unknown, path: string): unknown {
  if (!(error instanceof TreeEditError)) return error;
  switch (error.kind) {
    case "entry-not-found":
      return indexError("file_not_found", path);
    case "entry-exists":
      return indexError("file_exists", path);
    default:
      return unknownIndexError(path);
  }
}

async function edit(path: string, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (error) {
    throw translate(error, path);
  }
}

/** The empty blob, what a new directory's `.gitkeep` holds. */
export type EmptyBlob = () => Promise<string>;

/** Applies `action` to `tree` as Gitaly's `applyAction` does. */
export async function applyAction(
  tree: TreeEditor,
  action: CommitAction,
  emptyBlob: EmptyBlob,
): Promise<void> {
  switch (action.kind) {
    case "chmod":
      return await edit(action.path, () =>
        tree.modify(action.path, (entry) => {
          if (action.executable) entry.mode = "100755";
          else if (entry.mode === "100755") entry.mode = "100644";
        }));
    case "update":
      return await edit(action.path, () =>
        tree.modify(action.path, (entry) => {
          entry.oid = action.oid;
        }));
    case "move": {
      let found: EditableEntry | undefined;
      await edit(action.path, async () => {
        found = await tree.get(action.path);
      });
      if (found!.type !== "blob") throw indexError("file_not_found", action.path);
      const moved: EditableEntry = {
        oid: action.oid ?? found!.oid,
        mode: found!.mode,
        name: basePath(action.newPath),
        type: "unknown",
      };
      await edit(action.path, () => tree.remove(action.path));
      return await edit(
        action.newPath,
        () => tree.add(action.newPath, moved, { overwriteDir: true }),
      );
    }
    case "create_dir": {
      let existing: EditableEntry | undefined;
      try {
        existing = await tree.get(action.path);
      } catch (error) {
        if (!(error instanceof TreeEditError && error.kind === "entry-not-found")) {
          throw translate(error, action.path);
        }
      }
      if (existing) {
        const isDir = existing.type === "tree" || existing.type === "commit";
        throw indexError(isDir ? "directory_exists" : "file_exists", action.path);
      }
      const keep = `${action.path}/.gitkeep`;
      const entry: EditableEntry = {
        oid: await emptyBlob(),
        mode: "100644",
        name: ".gitkeep",
        type: "blob",
      };
      try {
        await tree.add(keep, entry);
      } catch (error) {
        if (error instanceof TreeEditError && error.kind === "entry-exists") {
          throw indexError("directory_exists", action.path);
        }
        throw translate(error, action.path);
      }
      return;
    }
    case "create":
      return await edit(action.path, () =>
        tree.add(action.path, {
          oid: action.oid,
          name: basePath(action.path),
          type: "blob",
          mode: action.executable ? "100755" : "100644",
        }, { overwriteDir: true }));
    case "delete":
      return await edit(action.path, () => tree.remove(action.path));
  }
}
