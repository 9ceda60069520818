/**
 * Every service the server offers, bound to its proto definition. Gitaly
 * methods without a handler answer `Unimplemented`.
 *
 * @module
 */
import type * as grpc from "@grpc/grpc-js";
import { gitalyServices, grpcServiceDefinition } from "../proto/mod.ts";
import type { ServiceRegistration } from "../server/server.ts";
import type { ServiceImplementation } from "../server/rpc.ts";
import type { ServiceDeps } from "./deps.ts";
import {
  HEALTH_SERVICE,
  healthDefinition,
  healthMethods,
  healthService,
  type HealthState,
} from "./health/mod.ts";
import { analysisService } from "./analysis/mod.ts";
import { blobService } from "./blob/mod.ts";
import { cleanupService } from "./cleanup/mod.ts";
import { commitService } from "./commit/mod.ts";
import { conflictsService } from "./conflicts/mod.ts";
import { diffService } from "./diff/mod.ts";
import { hookService } from "./hooks/mod.ts";
import { internalGitalyService } from "./internalgitaly/mod.ts";
import { objectPoolService } from "./objectpool/mod.ts";
import { operationService } from "./operation/mod.ts";
import { registerReflection } from "./reflection/mod.ts";
import { refService } from "./ref/mod.ts";
import { remoteService } from "./remote/mod.ts";
import { repositoryService } from "./repository/mod.ts";
import { serverService } from "./server/mod.ts";
import { smartHttpService } from "./smarthttp/mod.ts";
import { sshService } from "./ssh/mod.ts";

/** Factories of the Gitaly services we implement (wholly or in part). */
const GITALY_IMPLEMENTATIONS: ((deps: ServiceDeps) => ServiceImplementation)[] = [
  analysisService,
  cleanupService,
  diffService,
  hookService,
  internalGitalyService,
  objectPoolService,
  repositoryService,
  serverService,
  sshService,
  smartHttpService,
  remoteService,
  blobService,
  commitService,
  refService,
  conflictsService,
  operationService,
];

/** Our handlers by service name. */
export function gitalyImplementations(deps: ServiceDeps): Map<string, ServiceImplementation> {
  return new Map(
    GITALY_IMPLEMENTATIONS.map((make) => make(deps)).map((impl) => [impl.service, impl]),
  );
}

/** Registrations for the server, plus the reflection service. */
export function buildRegistrations(deps: ServiceDeps, health: HealthState): {
  services: ServiceRegistration[];
  extraServices: (server: grpc.Server) => void;
} {
  const impls = gitalyImplementations(deps);
  const services: ServiceRegistration[] = gitalyServices().map((service) => ({
    definition: grpcServiceDefinition(service.fullName),
    methods: service.methods,
    impl: impls.get(service.fullName),
  }));
  const names = [
    ...services.map((s) => s.methods[0]?.service).filter(Boolean),
    HEALTH_SERVICE,
  ] as string[];
  services.push({
    definition: healthDefinition,
    methods: healthMethods,
    impl: healthService(health, names),
  });
  return { services, extraServices: (server) => registerReflection(server, [HEALTH_SERVICE]) };
}
