/**
 * Bounded concurrency for independent git work inside one call (e.g. one
 * `git log` per tree entry): results keep the input order.
 *
 * @module
 */

/**
 * Maps `items` through `fn` with at most `limit` calls in flight; the
 * first failure stops new calls and is thrown once those in flight end.
 */
export async function mapConcurrent<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (failure === undefined && next < items.length) {
      const index = next++;
      try {
        results[index] = await fn(items[index], index);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.error;
  return results;
}
