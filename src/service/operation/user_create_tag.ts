/**
 * `UserCreateTag`: creates `refs/tags/<tag_name>` at `target_revision`
 * through the hooks as the request's user: a lightweight tag, or with a
 * `message` that is not all whitespace an annotated tag object written by
 * `git mktag` into a quarantine, byte for byte as Gitaly writes it.
 *
 * @module
 */
import { concatBytes } from "../../git/command.ts";
import { gitDate, signatureFromUser, UnknownTimezoneError } from "../../git/commit_writer.ts";
import { revisionProblem } from "../../git/revision.ts";
import { parseTag } from "../../git/tag_parser.ts";
import type { CommitFields } from "../../git/commit_parser.ts";
import type { User } from "../../proto/types.ts";
import {
  alreadyExists,
  Code,
  failedPrecondition,
  GrpcError,
  invalidArgument,
  wrapError,
} from "../../server/errors.ts";
import { type Rpc, unary } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { text } from "../shared/bytes.ts";
import { readCommit, readObjectBytes } from "../shared/commits.ts";
import { type Quarantine, withQuarantine } from "./quarantine.ts";
import {
  CustomHookError,
  NotAllowedError,
  ReferenceUpdateError,
  tagReference,
  updateReferenceWithHooks,
} from "./update_with_hooks.ts";

const DETAIL = "gitaly.UserCreateTagError";
const encoder = new TextEncoder();

/**
 * Gitaly's checks, in its order (tag name, a valid revision as tag name,
 * user, target, no NUL in the message, then the repository), and answers:
 * an existing tag is AlreadyExists with a `reference_exists` detail;
 * refusals are PermissionDenied with `access_check` or `custom_hook`
 * details, a failed update FailedPrecondition with `reference_update`.
 */
export function userCreateTag(deps: ServiceDeps): Rpc<"gitaly.OperationService", "UserCreateTag"> {
  return unary(async (req, ctx) => {
    const tagName = req.tag_name ?? new Uint8Array();
    if (tagName.length === 0) throw invalidArgument("empty tag name");
    const nameProblem = revisionProblem(text(tagName));
    if (nameProblem) throw invalidArgument(`invalid tag name: ${nameProblem}`);
    if (!req.user) throw invalidArgument("empty user");
    if (!req.target_revision?.length) throw invalidArgument("empty target revision");
    const message = req.message ?? new Uint8Array();
    if (message.includes(0)) throw invalidArgument("tag message contains NUL byte");
    await deps.locator.repoPath(req.repository);
    let taggerDate: string;
    try {
      taggerDate = gitDate(signatureFromUser(req.user, req.timestamp));
    } catch (error) {
      if (error instanceof UnknownTimezoneError) throw invalidArgument(error.message);
      throw error;
    }
    const reference = tagReference(tagName);
    return await withQuarantine(deps, req.repository, async (quarantine) => {
      const { tag, refOid } = await createTag(deps, quarantine, {
        target: req.target_revision,
        tagName,
        message,
        user: req.user!,
        taggerDate,
        signal: ctx.signal,
      });
      const existing = await deps.catfile.info(quarantine.repoPath, reference, {
        env: quarantine.env,
        signal: ctx.signal,
      });
      if (existing) {
        throw alreadyExists("tag reference exists already").withDetail(DETAIL, {
          reference_exists: { reference_name: reference, oid: existing.oid },
        });
      }
      try {
        await updateReferenceWithHooks(deps, ctx, {
          repository: req.repository,
          user: req.user,
          quarantine,
          reference,
          newOid: refOid,
          oldOid: "0".repeat(refOid.length),
        });
      } catch (error) {
        if (error instanceof NotAllowedError) {
          throw new GrpcError(
            Code.PERMISSION_DENIED,
            `reference update denied by access checks: ${error.message}`,
          ).withDetail(DETAIL, { access_check: error.detail() });
        }
        if (error instanceof CustomHookError) {
          throw new GrpcError(Code.PERMISSION_DENIED, "reference update denied by custom hooks")
            .withDetail(DETAIL, { custom_hook: error.detail() });
        }
        if (error instanceof ReferenceUpdateError) {
          throw failedPrecondition(`reference update failed: ${error.message}`)
            .withDetail(DETAIL, { reference_update: error.detail() });
        }
        throw wrapError("updating reference", error);
      }
      return { tag };
    });
  });
}

/** What {@link createTag} needs. */
interface TagRequest {
  target: Uint8Array;
  tagName: Uint8Array;
  message: Uint8Array;
  user: Partial<User>;
  /** `<unix seconds> <±hhmm>`. */
  taggerDate: string;
  signal: AbortSignal;
}

/** The response's tag and the object id the reference gets. */
interface CreatedTag {
  tag: {
    name: Uint8Array;
    id: string;
    message?: Uint8Array;
    message_size?: number;
    target_commit?: CommitFields;
  };
  refOid: string;
}

/**
 * Gitaly's `createTag`: resolves the target (any revision cat-file
 * understands), peels a tag target, and writes the tag object when the
 * message has a non-whitespace byte. A lightweight tag of a tag points at
 * the peeled object.
 */
async function createTag(
  deps: ServiceDeps,
  quarantine: Quarantine,
  request: TagRequest,
): Promise<CreatedTag> {
  const { repoPath, env } = quarantine;
  const { signal } = request;
  const target = await deps.catfile.info(repoPath, request.target, { env, signal })
    .catch(() => null);
  if (!target) throw failedPrecondition(`revspec '${text(request.target)}' not found`);
  const annotated = request.message.some((byte) => !GO_SPACE.has(byte));
  let peeled = { oid: target.oid, type: target.type };
  if (target.type === "tag") {
    const info = await deps.catfile.info(
      repoPath,
      concatBytes([request.target, encoder.encode("^{}")]),
      { env, signal },
    );
    if (!info) throw new Error(`reading object info: peeling ${target.oid}: not found`);
    peeled = { oid: info.oid, type: info.type };
  }
  let tag: CreatedTag["tag"];
  let refOid: string;
  if (annotated) {
    const tagOid = await writeTag(deps, quarantine, request, target);
    const object = await readObjectBytes(deps, repoPath, tagOid, signal, env);
    if (!object) throw new Error(`getting tag: ${tagOid} not found`);
    const parsed = parseTag(tagOid, object.data, request.tagName).tag;
    tag = {
      name: request.tagName,
      id: tagOid,
      message: parsed.message,
      message_size: parsed.message_size,
    };
    refOid = tagOid;
  } else {
    tag = { name: request.tagName, id: peeled.oid };
    refOid = peeled.oid;
  }
  if (peeled.type === "commit") {
    const commit = await readCommit(deps, repoPath, peeled.oid, signal, env);
    if (!commit) throw new Error(`getting commit: ${peeled.oid} not found`);
    tag.target_commit = commit;
  }
  return { tag, refOid };
}

/** The bytes Go's regexp `\s` matches: tab, LF, FF, CR, space. */
const GO_SPACE = new Set([0x09, 0x0a, 0x0c, 0x0d, 0x20]);

/** Gitaly strips these from the tagger's name and email (they would break the header). */
function sanitizeIdent(value: Uint8Array | string | undefined): Uint8Array {
  const bytes = typeof value === "string" ? encoder.encode(value) : value ?? new Uint8Array();
  return bytes.filter((byte) => byte !== 0x0a && byte !== 0x3c && byte !== 0x3e);
}

/**
 * Writes the tag object with `git mktag` (git's own checks) into the
 * quarantine: `object`, `type`, `tag`, `tagger <name> <<email>> <date>`,
 * a blank line, the message as given.
 */
async function writeTag(
  deps: ServiceDeps,
  quarantine: Quarantine,
  request: TagRequest,
  target: { oid: string; type: string },
): Promise<string> {
  const content = concatBytes([
    encoder.encode(`object ${target.oid}\ntype ${target.type}\ntag `),
    request.tagName,
    encoder.encode("\ntagger "),
    sanitizeIdent(request.user.name),
    encoder.encode(" <"),
    sanitizeIdent(request.user.email),
    encoder.encode(`> ${request.taggerDate}\n\n`),
    request.message,
  ]);
  const result = await deps.git.run({
    gitDir: quarantine.repoPath,
    command: { name: "mktag" },
    env: quarantine.env,
    stdin: content,
    signal: request.signal,
  });
  if (result.code !== 0) {
    throw new GrpcError(
      Code.NOT_FOUND,
      `Gitlab::Git::CommitError: Could not update refs/tags/${
        text(request.tagName)
      }. Please refresh and try again.`,
    );
  }
  return new TextDecoder().decode(result.stdout).trim();
}
