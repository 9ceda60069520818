/**
 * JSON with 64-bit ids: Go writes a transaction's `id` (Praefect's are
 * random `uint64`s) as a plain JSON number, beyond what a JS number holds
 * exactly. These read such ids as bigints from their source text and write
 * them back as raw digits. Kept free of heavy imports: the hooks
 * subcommand reads payloads with it.
 *
 * @module
 */

/**
 * `JSON.parse`, but every integer `id` field becomes a bigint read from its
 * source text (Go writes transaction ids as plain 64-bit numbers).
 */
export function parseJsonWithIds(text: string): unknown {
  return JSON.parse(text, function (key, value, context?: { source?: string }) {
    if (key === "id" && typeof value === "number" && context?.source !== undefined) {
      return /^\d+$/.test(context.source) ? BigInt(context.source) : value;
    }
    return value;
  });
}

/** `id` as raw JSON digits for `JSON.stringify` (no precision lost). */
export function rawJsonId(id: bigint): unknown {
  return (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON(id.toString());
}
