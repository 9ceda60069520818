/**
 * Structured logging, one line per event, as JSON or logfmt-style text
 * (`[logging] format`), written to stderr so stdout stays free for tools.
 *
 * @module
 */
import type { LogLevel } from "./config.ts";

/** Field values a log line may carry. */
export type LogFields = Record<string, string | number | boolean | undefined>;

const LEVEL_RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** A leveled logger bound to a format and a minimum level. */
export class Logger {
  readonly #encoder = new TextEncoder();

  constructor(
    readonly format: "json" | "text" = "text",
    readonly level: LogLevel = "info",
    readonly sink: (line: string) => void = (line) =>
      Deno.stderr.writeSync(this.#encoder.encode(line)),
  ) {}

  debug(msg: string, fields?: LogFields): void {
    this.log("debug", msg, fields);
  }

  info(msg: string, fields?: LogFields): void {
    this.log("info", msg, fields);
  }

  warn(msg: string, fields?: LogFields): void {
    this.log("warn", msg, fields);
  }

  error(msg: string, fields?: LogFields): void {
    this.log("error", msg, fields);
  }

  /** Writes one line when `level` is at or above the configured level. */
  log(level: LogLevel, msg: string, fields: LogFields = {}): void {
    if (LEVEL_RANK[level] < LEVEL_RANK[this.level]) return;
    const time = new Date().toISOString();
    this.sink(
      this.format === "json"
        ? formatJson(time, level, msg, fields)
        : formatText(time, level, msg, fields),
    );
  }
}

function formatJson(time: string, level: LogLevel, msg: string, fields: LogFields): string {
  const defined = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
  return JSON.stringify({ time, level, msg, ...defined }) + "\n";
}

function formatText(time: string, level: LogLevel, msg: string, fields: LogFields): string {
  const pairs = [`time=${quote(time)}`, `level=${level}`, `msg=${quote(msg)}`];
  for (const [key, value] of Object.entries(fields)) {
    if (value !== undefined) pairs.push(`${key}=${quote(String(value))}`);
  }
  return pairs.join(" ") + "\n";
}

function quote(value: string): string {
  return /^[A-Za-z0-9_.:/@+-]+$/.test(value) ? value : JSON.stringify(value);
}
