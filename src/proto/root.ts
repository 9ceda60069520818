/**
 * The resolved protobufjs Root of every proto the server speaks, built from
 * the embedded generated module (no .proto file is read at run time), and the
 * embedded FileDescriptorProtos.
 *
 * @module
 */
import protobuf from "./protobuf.ts";
import { FILE_DESCRIPTORS, PROTO_JSON } from "./generated.ts";
import { decodeBase64 } from "./base64.ts";

/** Every message, enum and service (gitaly, google.protobuf, grpc.health.v1, grpc.reflection.*), resolved. */
export const root: protobuf.Root = protobuf.Root.fromJSON(JSON.parse(PROTO_JSON));
root.resolveAll();

/** One embedded .proto file's encoded FileDescriptorProto. */
export interface EmbeddedFile {
  /** Import name, e.g. `shared.proto` or `grpc/health/v1/health.proto`. */
  name: string;
  /** Encoded google.protobuf.FileDescriptorProto. */
  descriptor: Uint8Array;
}

let files: readonly EmbeddedFile[] | undefined;

/** Every embedded file's descriptor, dependencies before dependents (decoded once, then shared). */
export function embeddedFiles(): readonly EmbeddedFile[] {
  files ??= FILE_DESCRIPTORS.map((f) => ({ name: f.name, descriptor: decodeBase64(f.descriptor) }));
  return files;
}

/** The message type `fullName` (with or without a leading dot); throws when there is none. */
export function messageType(fullName: string): protobuf.Type {
  return root.lookupType(fullName.startsWith(".") ? fullName : "." + fullName);
}
