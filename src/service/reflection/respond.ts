/**
 * Answers one ServerReflectionRequest (same shape in v1 and v1alpha), the way
 * grpc-go's reflection service does: a file request returns the file first and
 * then, breadth first, the files it imports that this stream has not been
 * sent yet; an unknown name yields an ErrorResponse (NOT_FOUND) and the stream
 * goes on.
 *
 * @module
 */
import type { DescriptorIndex, IndexedFile } from "./descriptor_index.ts";
import type {
  grpc_reflection_v1_ServerReflectionRequest as Request,
  grpc_reflection_v1_ServerReflectionResponse as Response,
  Init,
} from "../../proto/types.ts";

/** gRPC status codes used here. */
const NOT_FOUND = 5;

/** A ServerReflectionRequest: a decoded one (v1 and v1alpha have the same shape) or a plain object. */
export type ReflectionRequest = Init<Request>;

/** A ServerReflectionResponse to send. */
export type ReflectionResponse = Init<Response>;

/** Per-stream state. */
export interface ReflectionStream {
  /** The descriptors to answer from. */
  index: DescriptorIndex;
  /** Fully qualified service names to list. */
  services: readonly string[];
  /** Files already sent on this stream. */
  sent: Set<string>;
}

/** Thrown for a request that names no known kind of question; ends the stream. */
export class InvalidReflectionRequest extends Error {}

/** The ServerReflectionResponse (as a plain object) for `request`. */
export function respond(
  request: ReflectionRequest,
  stream: ReflectionStream,
): ReflectionResponse {
  return {
    valid_host: request.host ?? "",
    original_request: request,
    ...answer(request, stream),
  };
}

function answer(request: ReflectionRequest, stream: ReflectionStream): ReflectionResponse {
  const { index } = stream;
  switch (request.message_request) {
    case "file_by_filename": {
      const name = request.file_by_filename ?? "";
      return files(index.file(name), stream) ?? notFound(`unknown file: ${name}`);
    }
    case "file_containing_symbol": {
      const symbol = request.file_containing_symbol ?? "";
      return files(index.fileOfSymbol(symbol), stream) ?? notFound(`symbol not found: ${symbol}`);
    }
    case "file_containing_extension": {
      const type = request.file_containing_extension?.containing_type ?? "";
      const number = request.file_containing_extension?.extension_number ?? 0;
      return files(index.fileOfExtension(type, number), stream) ??
        notFound(`extension not found: ${type} ${number}`);
    }
    case "all_extension_numbers_of_type": {
      const type = request.all_extension_numbers_of_type ?? "";
      const numbers = index.extensionNumbers(type);
      if (!numbers) return notFound(`type not found: ${type}`);
      return {
        all_extension_numbers_response: { base_type_name: type, extension_number: numbers },
      };
    }
    case "list_services":
      return { list_services_response: { service: stream.services.map((name) => ({ name })) } };
    default:
      throw new InvalidReflectionRequest(`invalid MessageRequest: ${request.message_request}`);
  }
}

function files(
  file: IndexedFile | undefined,
  stream: ReflectionStream,
): ReflectionResponse | undefined {
  if (!file) return undefined;
  const encoded: Uint8Array[] = [];
  const queue: IndexedFile[] = [file];
  for (let current = queue.shift(); current; current = queue.shift()) {
    if (encoded.length === 0 || !stream.sent.has(current.name)) {
      stream.sent.add(current.name);
      encoded.push(current.descriptor);
    }
    for (const dependency of current.dependencies) {
      const found = stream.index.file(dependency);
      if (found) queue.push(found);
    }
  }
  return { file_descriptor_response: { file_descriptor_proto: encoded } };
}

function notFound(message: string): ReflectionResponse {
  return { error_response: { error_code: NOT_FOUND, error_message: message } };
}
