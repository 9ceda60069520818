/**
 * Where a request names its repository or storage, from Gitaly's
 * `(target_repository)`, `(additional_repository)` and `(storage)` field
 * annotations (directly, or through a header message whose `(repository)`
 * field is the Repository). Cached per request type.
 *
 * @module
 */
import type protobuf from "./protobuf.ts";
import {
  additionalRepositoryPath as findAdditional,
  storagePath as findStorage,
  targetRepositoryPath as findTarget,
} from "./annotations.ts";
import { messageType } from "./root.ts";

/** Field paths of a request type's routing fields; each absent when not annotated. */
export interface RequestRouting {
  /** e.g. `["repository"]` or `["header", "repository"]`. */
  targetRepository?: string[];
  /** e.g. `["object_pool", "repository"]`. */
  additionalRepository?: string[];
  /** e.g. `["storage_name"]`. */
  storage?: string[];
}

const cache = new WeakMap<protobuf.Type, RequestRouting>();

/** The routing field paths of a request type (a Type or its fully qualified name). */
export function requestRouting(type: protobuf.Type | string): RequestRouting {
  const resolved = typeof type === "string" ? messageType(type) : type;
  let routing = cache.get(resolved);
  if (!routing) {
    routing = {};
    const target = findTarget(resolved);
    const additional = findAdditional(resolved);
    const storage = findStorage(resolved);
    if (target) routing.targetRepository = target;
    if (additional) routing.additionalRepository = additional;
    if (storage) routing.storage = storage;
    cache.set(resolved, routing);
  }
  return routing;
}

/** The target repository field path of a request type, if it has one. */
export function targetRepositoryPath(type: protobuf.Type | string): string[] | undefined {
  return requestRouting(type).targetRepository;
}

/** The additional repository field path of a request type, if it has one. */
export function additionalRepositoryPath(type: protobuf.Type | string): string[] | undefined {
  return requestRouting(type).additionalRepository;
}

/** The storage name field path of a request type, if it has one. */
export function storagePath(type: protobuf.Type | string): string[] | undefined {
  return requestRouting(type).storage;
}

/** Follows `path` through a (decoded or plain) message; undefined when a step is missing or null. */
export function valueAtPath(message: unknown, path: readonly string[]): unknown {
  let value = message;
  for (const name of path) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<string, unknown>)[name];
  }
  return value ?? undefined;
}
