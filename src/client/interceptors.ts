/**
 * Client interceptors that add request metadata to every call.
 *
 * @module
 */
import { InterceptingCall, type Interceptor } from "@grpc/grpc-js";

/**
 * An interceptor adding the headers `produce()` returns to each call's
 * metadata, computed when the call starts (so values such as token
 * timestamps are fresh).
 */
export function metadataInterceptor(produce: () => Record<string, string>): Interceptor {
  return (options, nextCall) =>
    new InterceptingCall(nextCall(options), {
      start(metadata, listener, next) {
        for (const [key, value] of Object.entries(produce())) metadata.set(key, value);
        next(metadata, listener);
      },
    });
}

/** An interceptor adding fixed headers (feature flags, correlation id, …) to every call. */
export function staticMetadataInterceptor(headers: Record<string, string>): Interceptor {
  const fixed = { ...headers };
  return metadataInterceptor(() => fixed);
}
