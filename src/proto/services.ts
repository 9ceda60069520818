/**
 * Service and method metadata for routing, logging and authorization, read
 * from the embedded root: paths, streaming kinds, message types and Gitaly's
 * `(op_type)` annotation.
 *
 * @module
 */
import protobuf from "./protobuf.ts";
import { root } from "./root.ts";
import { isIntercepted, type Operation, operationOf, type Scope, scopeOf } from "./annotations.ts";

/** One RPC. */
export interface MethodInfo {
  /** Fully qualified service name, e.g. `gitaly.RepositoryService`. */
  service: string;
  /** Method name as in the proto, e.g. `RepositoryExists`. */
  name: string;
  /** gRPC path, e.g. `/gitaly.RepositoryService/RepositoryExists`. */
  path: string;
  /** Client streams requests. */
  requestStream: boolean;
  /** Server streams responses. */
  responseStream: boolean;
  /** Request message type. */
  requestType: protobuf.Type;
  /** Response message type. */
  responseType: protobuf.Type;
  /** `(op_type).op`; absent when the method has no `(op_type)` (intercepted services). */
  op?: Operation;
  /** `(op_type).scope_level` (REPOSITORY when not written); absent without `(op_type)`. */
  scope?: Scope;
}

/** One service and its methods in declaration order. */
export interface ServiceInfo {
  /** Fully qualified name, e.g. `gitaly.RepositoryService`. */
  fullName: string;
  /** Short name, e.g. `RepositoryService`. */
  name: string;
  /** True when the service is `(intercepted)` (Praefect answers it itself). */
  intercepted: boolean;
  /** The service's RPCs. */
  methods: MethodInfo[];
}

const byName = new Map<string, ServiceInfo>();
const byPath = new Map<string, MethodInfo>();
let gitaly: ServiceInfo[] | undefined;

/** Every service in package `gitaly`, in proto declaration order. */
export function gitalyServices(): ServiceInfo[] {
  gitaly ??= (root.lookup("gitaly") as protobuf.Namespace).nestedArray
    .filter((o): o is protobuf.Service => o instanceof protobuf.Service)
    .map((s) => serviceInfo(s.fullName));
  return gitaly;
}

/** The service `fullName` (any embedded package, e.g. `grpc.health.v1.Health`); throws when unknown. */
export function serviceInfo(fullName: string): ServiceInfo {
  const key = fullName.replace(/^\./, "");
  let info = byName.get(key);
  if (!info) {
    info = describeService(root.lookupService("." + key));
    byName.set(key, info);
    for (const method of info.methods) byPath.set(method.path, method);
  }
  return info;
}

/** The method served at a gRPC path (`/gitaly.RepositoryService/RepositoryExists`), if any. */
export function methodByPath(path: string): MethodInfo | undefined {
  const cached = byPath.get(path);
  if (cached) return cached;
  const match = /^\/([^/]+)\/([^/]+)$/.exec(path);
  if (!match || !(root.lookup(match[1]) instanceof protobuf.Service)) return undefined;
  return serviceInfo(match[1]).methods.find((m) => m.name === match[2]);
}

function describeService(service: protobuf.Service): ServiceInfo {
  const fullName = service.fullName.slice(1);
  return {
    fullName,
    name: service.name,
    intercepted: isIntercepted(service),
    methods: service.methodsArray.map((method) => describeMethod(fullName, method)),
  };
}

function describeMethod(service: string, method: protobuf.Method): MethodInfo {
  method.resolve();
  const info: MethodInfo = {
    service,
    name: method.name,
    path: `/${service}/${method.name}`,
    requestStream: method.requestStream === true,
    responseStream: method.responseStream === true,
    requestType: method.resolvedRequestType!,
    responseType: method.resolvedResponseType!,
  };
  const op = operationOf(method);
  if (op !== undefined) {
    info.op = op;
    const scope = scopeOf(method);
    if (scope !== undefined) info.scope = scope;
  }
  return info;
}
