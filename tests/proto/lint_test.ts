/**
 * The proto linter: each rule fires on a small broken proto written here (with
 * the file, service, method and rule named), the CLI reports and exits as
 * documented, and the project's proto/ directory lints clean.
 *
 * @module
 */
import { join } from "node:path";
import { assert, assertEquals } from "../helpers/assert.ts";
import { parseProtoSet } from "../../src/proto/parse.ts";
import { readProtoDir } from "../../src/proto/sources.ts";
import { formatViolation, lintProtoSet, type Violation } from "../../src/proto/lint.ts";

const PROJECT_PROTO_DIR = new URL("../../proto", import.meta.url).pathname;
const LINT_CLI = new URL("../../src/proto/lint_cli.ts", import.meta.url).pathname;

/** The annotations, as lint.proto declares them (same names and numbers). */
const LINT_PROTO = `syntax = "proto3";
package gitaly;
import "google/protobuf/descriptor.proto";
option go_package = "example.com/gitalypb";
message OperationMsg {
  enum Operation { UNKNOWN = 0; MUTATOR = 1; ACCESSOR = 2; MAINTENANCE = 3; }
  enum Scope { REPOSITORY = 0; STORAGE = 2; reserved 1; }
  Operation op = 1;
  Scope scope_level = 2;
}
extend google.protobuf.ServiceOptions { bool intercepted = 82302; }
extend google.protobuf.MethodOptions { OperationMsg op_type = 82303; }
extend google.protobuf.FieldOptions {
  bool storage = 91233;
  bool repository = 91234;
  bool target_repository = 91235;
  bool additional_repository = 91236;
}
`;

const SHARED_PROTO = `syntax = "proto3";
package gitaly;
option go_package = "example.com/gitalypb";
message Repository { string storage_name = 2; string relative_path = 3; }
`;

/** Requests of every shape the rules care about, and services that use them well and badly. */
const BROKEN_PROTO = `syntax = "proto3";
package gitaly;
import "lint.proto";
import "shared.proto";
option go_package = "example.com/gitalypb";

message Empty {}
message RepoRequest { Repository repository = 1 [(target_repository)=true]; }
message TwoRepos {
  Repository a = 1 [(target_repository)=true];
  Repository b = 2 [(target_repository)=true];
}
message Header { Repository repository = 1 [(repository)=true]; }
message HeaderRequest { Header header = 1 [(target_repository)=true]; }
message WrongHeader {
  message Inner { Empty repository = 1 [(repository)=true]; }
  Inner header = 1 [(target_repository)=true];
}
message StorageRequest { string storage_name = 1 [(storage)=true]; }
message RepoAndStorage {
  Repository repository = 1 [(target_repository)=true];
  string storage_name = 2 [(storage)=true];
}
message PoolRequest {
  Header pool = 1 [(target_repository)=true];
  Repository origin = 2 [(additional_repository)=true];
}

service Good {
  rpc Accessor(RepoRequest) returns (Empty) { option (op_type) = { op: ACCESSOR }; }
  rpc NestedMutator(HeaderRequest) returns (Empty) {
    option (op_type) = { op: MUTATOR scope_level: REPOSITORY };
  }
  rpc StorageMutator(StorageRequest) returns (Empty) {
    option (op_type) = { op: MUTATOR scope_level: STORAGE };
  }
  rpc StorageAccessor(StorageRequest) returns (Empty) {
    option (op_type).op = ACCESSOR;
    option (op_type).scope_level = STORAGE;
  }
  rpc Maintenance(RepoRequest) returns (Empty) { option (op_type).op = MAINTENANCE; }
  rpc Pool(PoolRequest) returns (Empty) { option (op_type).op = MUTATOR; };;
}

service Intercepted {
  option (intercepted) = true;
  rpc Fine(Empty) returns (Empty);
  rpc Annotated(Empty) returns (Empty) { option (op_type).op = ACCESSOR; }
}

service Broken {
  rpc NoOpType(RepoRequest) returns (Empty);
  rpc UnknownOp(RepoRequest) returns (Empty) { option (op_type).op = UNKNOWN; }
  rpc BadScope(RepoRequest) returns (Empty) { option (op_type) = { op: MUTATOR scope_level: 1 }; }
  rpc MaintenanceOfStorage(StorageRequest) returns (Empty) {
    option (op_type) = { op: MAINTENANCE scope_level: STORAGE };
  }
  rpc NoTarget(Empty) returns (Empty) { option (op_type).op = ACCESSOR; }
  rpc TwoTargets(TwoRepos) returns (Empty) { option (op_type).op = MUTATOR; }
  rpc WrongNestedType(WrongHeader) returns (Empty) { option (op_type).op = MUTATOR; }
  rpc StorageScopeWithRepository(RepoRequest) returns (Empty) {
    option (op_type) = { op: MUTATOR scope_level: STORAGE };
  }
  rpc StorageScopeWithoutStorage(Empty) returns (Empty) {
    option (op_type) = { op: MUTATOR scope_level: STORAGE };
  }
  rpc RepositoryScopeWithStorage(RepoAndStorage) returns (Empty) { option (op_type).op = ACCESSOR; }
}
`;

/** Another package, spelling the options fully qualified, and no go_package. */
const OTHER_PROTO = `syntax = "proto3";
package other;
import "lint.proto";
import "shared.proto";

message Request { gitaly.Repository repository = 1 [(gitaly.target_repository) = true]; }
message Response {}

service Other {
  rpc Fine(Request) returns (Response) { option (gitaly.op_type) = { op: ACCESSOR }; }
  rpc Missing(Response) returns (Response) { option (gitaly.op_type).op = MUTATOR; }
}
`;

/** Writes the files into a fresh temp dir and returns its path. */
async function protoDir(files: Record<string, string>): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "lint_proto_" });
  for (const [name, text] of Object.entries(files)) await Deno.writeTextFile(join(dir, name), text);
  return dir;
}

const BROKEN_FILES = {
  "lint.proto": LINT_PROTO,
  "shared.proto": SHARED_PROTO,
  "broken.proto": BROKEN_PROTO,
  "other.proto": OTHER_PROTO,
};

async function lintDir(dir: string): Promise<Violation[]> {
  return lintProtoSet(parseProtoSet(await readProtoDir(dir)));
}

function where(v: Violation): string {
  return [v.file, v.service ?? "-", v.method ?? "-", v.rule].join(" ");
}

Deno.test("each lint rule fires with file, service, method and rule", async () => {
  const dir = await protoDir(BROKEN_FILES);
  try {
    const violations = await lintDir(dir);
    assertEquals(violations.map(where), [
      "broken.proto Intercepted Annotated op-type-intercepted",
      "broken.proto Broken NoOpType op-type-missing",
      "broken.proto Broken UnknownOp op-type-unknown",
      "broken.proto Broken BadScope scope-level",
      "broken.proto Broken MaintenanceOfStorage scope-level",
      "broken.proto Broken NoTarget target-repository",
      "broken.proto Broken TwoTargets target-repository",
      "broken.proto Broken WrongNestedType target-repository-type",
      "broken.proto Broken StorageScopeWithRepository target-repository",
      "broken.proto Broken StorageScopeWithoutStorage storage",
      "broken.proto Broken RepositoryScopeWithStorage storage",
      "other.proto - - go-package",
      "other.proto Other Missing target-repository",
    ]);
    const messages = Object.fromEntries(violations.map((v) => [v.method ?? v.file, v.message]));
    assertEquals(messages.BadScope, "unknown operation scope level 1");
    assertEquals(messages.MaintenanceOfStorage, "unknown operation scope level 2");
    assertEquals(
      messages.TwoTargets,
      "unexpected count of target_repository fields 2, expected 1, found target_repository label at: " +
        "[TwoRepos.a TwoRepos.b]",
    );
    assertEquals(
      messages.WrongNestedType,
      "wrong type of field WrongHeader.header.repository, expected .gitaly.Repository, got .gitaly.Empty",
    );
    assertEquals(
      messages.RepositoryScopeWithStorage,
      "unexpected count of storage field 1, expected 0, found storage label at: [RepoAndStorage.storage_name]",
    );
    assertEquals(
      formatViolation(violations[1]),
      'broken.proto: service "Broken": method "NoOpType": op-type-missing: missing op_type extension',
    );
    assertEquals(
      formatViolation(violations[11]),
      "other.proto: go-package: option go_package is not set",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("lint:proto CLI exits 1 with one line per violation", async () => {
  const dir = await protoDir(BROKEN_FILES);
  try {
    const result = await runCli(dir);
    assertEquals(result.code, 1);
    const lines = result.stderr.trim().split("\n");
    assertEquals(lines.length, 13);
    assert(
      lines.includes(
        'broken.proto: service "Broken": method "NoTarget": target-repository: ' +
          "unexpected count of target_repository fields 0, expected 1, found target_repository label at: []",
      ),
      result.stderr,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("lint:proto CLI exits 1 naming the file that does not parse", async () => {
  const dir = await protoDir({ "bad.proto": 'syntax = "proto3";\nmessage {' });
  try {
    const result = await runCli(dir);
    assertEquals(result.code, 1);
    assert(result.stderr.includes("bad.proto"), result.stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the project's proto/ directory lints clean", async () => {
  assertEquals((await lintDir(PROJECT_PROTO_DIR)).map(formatViolation), []);
  const result = await runCli(PROJECT_PROTO_DIR);
  assertEquals(result.code, 0, result.stderr);
  assertEquals(result.stdout.trim().split("\n").length, 1);
  assert(
    /^lint:proto: 24 files, \d+ services, \d+ methods: no violations$/.test(result.stdout.trim()),
    result.stdout,
  );
});

async function runCli(dir: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", LINT_CLI, dir],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: output.code, stdout: decode(output.stdout), stderr: decode(output.stderr) };
}
