/**
 * Version strings. We report the Gitaly release whose interface we serve,
 * with our own suffix, so clients that compare versions see a 16.7 server.
 *
 * @module
 */

/** Our own release. */
export const VERSION = "0.1.0";

/** The Gitaly interface version this server implements. */
export const GITALY_COMPAT_VERSION = "16.7.0";

/** What `ServerInfo.server_version` reports. */
export const SERVER_VERSION = `${GITALY_COMPAT_VERSION}-deno.${VERSION}`;
