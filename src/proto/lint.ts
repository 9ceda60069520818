/**
 * Gitaly's proto conventions, checked over a parsed {@link ProtoSet}. The rules
 * match what Gitaly's own protoc linter (protoc-gen-gitaly-lint) enforces:
 *
 * - `go-package`: every file sets `option go_package`.
 * - `op-type-missing`: every RPC of a service that is not `(intercepted)` has
 *   `option (op_type)`.
 * - `op-type-intercepted`: RPCs of an intercepted service have no `(op_type)`.
 * - `op-type-unknown`: `op` is ACCESSOR, MUTATOR or MAINTENANCE (not UNKNOWN).
 * - `scope-level`: a MUTATOR's scope is REPOSITORY or STORAGE, a MAINTENANCE
 *   RPC's is REPOSITORY. An unwritten `scope_level` is REPOSITORY (the enum's
 *   zero value), exactly as Gitaly reads it.
 * - `target-repository`: a repository-scoped request marks exactly one
 *   Repository `(target_repository)` (directly, or a header marked
 *   `(target_repository)` whose `(repository)` field is the Repository); a
 *   storage-scoped request marks none.
 * - `target-repository-type`: a marked repository field is a `gitaly.Repository`.
 * - `storage`: a storage-scoped request marks exactly one (scalar) `(storage)`
 *   field, a repository-scoped request none.
 *
 * Like Gitaly's linter, each method reports only its first problem.
 *
 * @module
 */
import type protobuf from "./protobuf.ts";
import type { ProtoFile, ProtoSet } from "./parse.ts";
import {
  type AnnotationSearch,
  findAnnotatedFields,
  isIntercepted,
  rawOperation,
  STORAGE,
  TARGET_REPOSITORY,
} from "./annotations.ts";
import { servicesIn } from "./declarations.ts";

/** Names of the lint rules. */
export type LintRule =
  | "go-package"
  | "op-type-missing"
  | "op-type-intercepted"
  | "op-type-unknown"
  | "scope-level"
  | "target-repository"
  | "target-repository-type"
  | "storage";

/** One broken rule. `service` and `method` are absent for file-level rules. */
export interface Violation {
  /** File name as imported, e.g. `repository.proto`. */
  file: string;
  /** Service name (short, as in the file). */
  service?: string;
  /** Method name. */
  method?: string;
  /** The rule broken. */
  rule: LintRule;
  /** What is wrong, in words. */
  message: string;
}

const OP_MUTATOR = 1;
const OP_ACCESSOR = 2;
const OP_MAINTENANCE = 3;
const SCOPE_REPOSITORY = 0;
const SCOPE_STORAGE = 2;

type MethodProblem = Pick<Violation, "rule" | "message">;

/** Checks every file of `set` that was given as input (bundled google files are skipped). */
export function lintProtoSet(set: ProtoSet): Violation[] {
  const violations: Violation[] = [];
  for (const file of set.files) {
    if (file.bundled) continue;
    violations.push(...lintFile(set.root, file));
  }
  return violations;
}

/** Renders a violation as one line: `file: service "S": method "M": rule: message`. */
export function formatViolation(v: Violation): string {
  const where = [v.file];
  if (v.service !== undefined) where.push(`service "${v.service}"`);
  if (v.method !== undefined) where.push(`method "${v.method}"`);
  return `${where.join(": ")}: ${v.rule}: ${v.message}`;
}

function lintFile(root: protobuf.Root, file: ProtoFile): Violation[] {
  const violations: Violation[] = [];
  if (typeof file.options.go_package !== "string" || file.options.go_package === "") {
    violations.push({
      file: file.name,
      rule: "go-package",
      message: "option go_package is not set",
    });
  }
  for (const service of servicesIn(root, file.name)) {
    for (const method of service.methodsArray) {
      const problem = lintMethod(service, method);
      if (problem) {
        violations.push({
          file: file.name,
          service: service.name,
          method: method.name,
          ...problem,
        });
      }
    }
  }
  return violations;
}

function lintMethod(service: protobuf.Service, method: protobuf.Method): MethodProblem | undefined {
  const operation = rawOperation(method);
  if (isIntercepted(service)) {
    return operation
      ? { rule: "op-type-intercepted", message: "operation type defined on an intercepted method" }
      : undefined;
  }
  if (!operation) return { rule: "op-type-missing", message: "missing op_type extension" };
  method.resolve();
  const request = method.resolvedRequestType!;
  switch (operation.op) {
    case OP_ACCESSOR:
      if (operation.scope === SCOPE_REPOSITORY) return checkRepositoryScope(request);
      if (operation.scope === SCOPE_STORAGE) return checkStorageScope(request);
      return undefined;
    case OP_MUTATOR:
      if (operation.scope === SCOPE_REPOSITORY) return checkRepositoryScope(request);
      if (operation.scope === SCOPE_STORAGE) return checkStorageScope(request);
      return unknownScope(operation.scope);
    case OP_MAINTENANCE:
      if (operation.scope === SCOPE_REPOSITORY) return checkRepositoryScope(request);
      return unknownScope(operation.scope);
    case 0:
      return { rule: "op-type-unknown", message: "op set to UNKNOWN" };
    default:
      return { rule: "op-type-unknown", message: `invalid operation class ${operation.op}` };
  }
}

function unknownScope(scope: number): MethodProblem {
  return { rule: "scope-level", message: `unknown operation scope level ${scope}` };
}

function checkRepositoryScope(request: protobuf.Type): MethodProblem | undefined {
  return countTargetRepositories(request, 1) ?? countStorages(request, 0);
}

function checkStorageScope(request: protobuf.Type): MethodProblem | undefined {
  return countTargetRepositories(request, 0) ?? countStorages(request, 1);
}

function countTargetRepositories(
  request: protobuf.Type,
  expected: number,
): MethodProblem | undefined {
  const search = findAnnotatedFields(request, TARGET_REPOSITORY);
  if (search.wrongType) return wrongType("target-repository-type", request, search);
  if (search.matches.length === expected) return undefined;
  return {
    rule: "target-repository",
    message:
      `unexpected count of target_repository fields ${search.matches.length}, expected ${expected}, ` +
      `found target_repository label at: [${labelled(request, search)}]`,
  };
}

function countStorages(request: protobuf.Type, expected: number): MethodProblem | undefined {
  const search = findAnnotatedFields(request, STORAGE);
  if (search.wrongType) return wrongType("storage", request, search);
  if (search.matches.length === expected) return undefined;
  return {
    rule: "storage",
    message: `unexpected count of storage field ${search.matches.length}, expected ${expected}, ` +
      `found storage label at: [${labelled(request, search)}]`,
  };
}

function wrongType(
  rule: LintRule,
  request: protobuf.Type,
  search: AnnotationSearch,
): MethodProblem {
  const { path, expected, actual } = search.wrongType!;
  return {
    rule,
    message: `wrong type of field ${[request.name, ...path].join(".")}, expected ${expected}, got ${
      actual || "a scalar"
    }`,
  };
}

function labelled(request: protobuf.Type, search: AnnotationSearch): string {
  return search.matches.map((m) => [request.name, ...m.path].join(".")).join(" ");
}
