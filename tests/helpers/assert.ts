/**
 * Minimal assertions shared by every test (jsr:@std/assert is unreachable
 * and node:assert needs @types/node for type checking).
 *
 * @module
 */

/** Throws unless `condition` is truthy. */
export function assert(condition: unknown, message = "assertion failed"): asserts condition {
  if (!condition) throw new Error(message);
}

/** Strict equality for primitives, structural equality (JSON) for the rest. */
export function assertEquals<T>(actual: T, expected: T, message?: string): void {
  const same = Object.is(actual, expected) ||
    (typeof actual === "object" && actual !== null &&
      JSON.stringify(actual) === JSON.stringify(expected));
  if (!same) {
    throw new Error(
      `${message ? message + ": " : ""}expected ${show(expected)}, got ${show(actual)}`,
    );
  }
}

/** Throws unless `text` matches `pattern`. */
export function assertMatch(text: string, pattern: RegExp, message?: string): void {
  if (!pattern.test(text)) {
    throw new Error(`${message ? message + ": " : ""}${show(text)} does not match ${pattern}`);
  }
}

/** What a thrown error must be: a class, a message pattern, or a predicate. */
export type ErrorExpectation =
  // deno-lint-ignore no-explicit-any
  | (abstract new (...args: any[]) => unknown)
  | RegExp
  | ((error: unknown) => boolean);

/** Awaits `promise` and checks that it rejects as expected; returns the error. */
export async function assertRejects(
  promise: Promise<unknown>,
  expected?: ErrorExpectation,
): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    check(error, expected);
    return error;
  }
  throw new Error("expected a rejection");
}

/** Calls `fn` and checks that it throws as expected; returns the error. */
export function assertThrows(fn: () => unknown, expected?: ErrorExpectation): unknown {
  try {
    fn();
  } catch (error) {
    check(error, expected);
    return error;
  }
  throw new Error("expected an exception");
}

function check(error: unknown, expected: ErrorExpectation | undefined): void {
  if (expected === undefined) return;
  if (expected instanceof RegExp) {
    const message = error instanceof Error ? error.message : String(error);
    if (!expected.test(message)) {
      throw new Error(`error ${show(message)} does not match ${expected}`);
    }
  } else if (expected.prototype !== undefined) {
    if (!(error instanceof expected)) throw new Error(`unexpected error: ${error}`);
  } else if (!(expected as (error: unknown) => boolean)(error)) {
    throw new Error(`unexpected error: ${error}`);
  }
}

function show(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** Throws unless `actual > expected`. */
export function assertGreater(actual: number, expected: number, message?: string): void {
  if (!(actual > expected)) {
    throw new Error(`${message ? message + ": " : ""}expected ${actual} > ${expected}`);
  }
}
