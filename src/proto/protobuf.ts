/**
 * The one place that imports protobufjs and configures it for this project.
 *
 * Gitaly's 64-bit fields (sizes, timestamps, counts) fit comfortably in a JS
 * number, and numbers are far cheaper to handle than Long objects, so Long
 * support is switched off before any type is built: int64/uint64 fields decode
 * to plain numbers. Every module that touches protobufjs imports it from here so
 * the configuration is in place first.
 *
 * @module
 */
import protobuf from "protobufjs";

// protobufjs picks Long up from its optional dependency; without it the reader
// and the field defaults fall back to numbers.
(protobuf.util as { Long: unknown }).Long = undefined;
protobuf.configure();

export default protobuf;
