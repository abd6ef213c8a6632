// What a received security event does: its subject (RFC 9493) resolved to the sessions and users
// it names, as back-channel logout resolves a logout token (a provider session, a provider
// subject), plus verified email addresses; then the configured effect, through the kit's session
// registry. Each user the event reached gets one record for the event log.
import type { SecurityEventRecord } from "../engine/ports";
import type { Awaitable } from "../engine/types";
import { linkableEmail } from "./email";
import type { SecurityEvent, SecurityEventName } from "./security-event";
import { describeSubject, type SimpleSubject, type SubjectId } from "./subjects";

/** A built-in effect, by name. */
export type SecurityEffectName = "end-sessions" | "end-user-sessions" | "reload-claims" | "step-up" | "hook" | "log";

/** An event as an effect or hook sees it: the event, its SET's claims, the users it names. */
export interface ReceivedSecurityEvent extends SecurityEvent {
  iss: string;
  jti: string;
  iat: number;
  txn?: string;
  subject: SubjectId;
}

/** Your own effect (or the `hook`): gets the event and the users it names; returns a short description to record, or nothing. */
export type SecurityEffectFunction = (event: ReceivedSecurityEvent, context: { userIds: readonly string[] }) => Awaitable<string | void>;

/** What an event does: a built-in effect's name, or a function. */
export type SecurityEffect = SecurityEffectName | SecurityEffectFunction;

/** What the receiver did with one event for one user (the event log's `outcome`). */
export type SecurityEventOutcomeName = "sessions_ended" | "claims_reloaded" | "step_up_required" | "hook_called" | "logged" | "no_match" | "verified" | "stream_updated";

/**
 * The effect of each event type unless `effects` says otherwise. CAEP: a revoked session ends,
 * a credential change ends every session of the user, an assurance-level change makes the next
 * sensitive action step up, a claims change reloads the user's claims, a device-compliance change
 * calls the hook. RISC: a disabled, purged or compromised account, or its sessions revoked, signs
 * the user out everywhere. Every other event (and any unknown type) is recorded and changes nothing.
 *
 * @example
 * ```ts
 * DEFAULT_SECURITY_EFFECTS["session-revoked"]; // "end-sessions"
 * ```
 */
export const DEFAULT_SECURITY_EFFECTS: Readonly<Partial<Record<SecurityEventName, SecurityEffectName>>> = {
  "session-revoked": "end-sessions",
  "credential-change": "end-user-sessions",
  "assurance-level-change": "step-up",
  "token-claims-change": "reload-claims",
  "device-compliance-change": "hook",
  "account-disabled": "end-user-sessions",
  "account-purged": "end-user-sessions",
  "sessions-revoked": "end-user-sessions",
  "account-credential-change-required": "end-user-sessions",
};

/** What the effects need from the kit (`kit.sessions`). */
export interface SecurityEffectsKit {
  readonly sessions: {
    revoke(sid: string, options?: { by?: "provider" }): Promise<number>;
    revokeAll(userId: string, options?: { by?: "provider" }): Promise<number>;
    revokeByProvider(where: { issuer: string; sid?: string; subject?: string }): Promise<number>;
    listByProvider(where: { issuer: string; sid?: string; subject?: string }): Promise<Array<{ sid: string; userId: string }>>;
    reloadClaims(userId: string): Promise<void>;
  };
}

/** The resolved options the effects run with. */
export interface EffectDeps {
  kit: SecurityEffectsKit;
  /** Issuers whose subjects (`iss_sub`) this transmitter may name; the first is the one of `opaque` session ids. */
  subjectIssuers: readonly string[];
  resolveEmail?: (email: string) => Awaitable<readonly string[]>;
  hook?: SecurityEffectFunction;
}

/** What a subject names: sessions (listed, with a provider lookup that ends them at once), or users. */
interface Target {
  sessions: Array<{ sid: string; userId: string }>;
  /** When the sessions are exactly a provider lookup's: revoked by it in one statement. */
  where?: { issuer: string; sid?: string; subject?: string };
  /** Users named without naming sessions (a verified email). */
  users: string[];
  note?: string;
}

const NONE = (note: string): Target => ({ sessions: [], users: [], note });

async function emailUsers(email: string, deps: EffectDeps): Promise<string[] | string> {
  const linkable = linkableEmail(email);
  if (!linkable.ok) return `email refused (${linkable.code})`;
  if (!deps.resolveEmail) return "email subjects are not resolved (no resolveEmail)";
  return [...new Set(await deps.resolveEmail(linkable.email))];
}

async function byProvider(where: { issuer: string; sid?: string; subject?: string }, deps: EffectDeps): Promise<Target> {
  return { sessions: await deps.kit.sessions.listByProvider(where), where, users: [] };
}

/** A subject's sessions and users. A provider subject of an issuer not in `subjectIssuers` names nothing. */
async function resolve(subject: SubjectId, deps: EffectDeps): Promise<Target> {
  const home = deps.subjectIssuers[0]!;
  const allowed = (s: SimpleSubject & { format: "iss_sub" }) => deps.subjectIssuers.includes(s.iss);
  const user = subject.format === "complex" ? subject.user : subject.format === "iss_sub" || subject.format === "email" ? subject : undefined;
  // A session: SSF's complex `session` member, or (as CAEP's session-revoked example has it) a
  // top-level opaque id: the provider's session id at the home issuer, like a logout token's `sid`.
  const session = subject.format === "complex" ? (subject.session?.format === "opaque" ? subject.session.id : undefined) : subject.format === "opaque" ? subject.id : undefined;
  if (user?.format === "iss_sub" && !allowed(user)) return NONE("iss_sub of an issuer this transmitter may not name");
  if (session !== undefined) {
    if (user?.format === "iss_sub") return byProvider({ issuer: user.iss, sid: session, subject: user.sub }, deps);
    // An opaque user is the home issuer's provider subject: the session must be that subject's too.
    if (user?.format === "opaque") return byProvider({ issuer: home, sid: session, subject: user.id }, deps);
    const found = await byProvider({ issuer: home, sid: session }, deps);
    if (user?.format !== "email") return found;
    // Only the sessions of the user this verified address belongs to.
    const users = await emailUsers(user.email, deps);
    if (typeof users === "string") return NONE(users);
    return { sessions: found.sessions.filter((s) => users.includes(s.userId)), users: [] };
  }
  if (user?.format === "iss_sub") return byProvider({ issuer: user.iss, subject: user.sub }, deps);
  if (user?.format === "email") {
    const users = await emailUsers(user.email, deps);
    return typeof users === "string" ? NONE(users) : { sessions: [], users };
  }
  if (subject.format === "complex" && subject.user?.format === "opaque") return byProvider({ issuer: home, subject: subject.user.id }, deps);
  return NONE("the subject names no session or user the kit can match");
}

const usersOf = (t: Target) => [...new Set([...t.users, ...t.sessions.map((s) => s.userId)])];
const short = (text: string | void) => (typeof text === "string" && text.length > 0 ? text.replace(/[\p{Cc}]/gu, " ").slice(0, 200) : null);

/**
 * Apply one event's effect and describe what it did, one record per user it reached (or one with
 * `userId: null` when it reached nobody). Throws when the registry does (the caller answers 503
 * and the transmitter retries).
 */
export async function applyEffect(event: ReceivedSecurityEvent, effect: SecurityEffect, deps: EffectDeps): Promise<Array<Pick<SecurityEventRecord, "userId" | "outcome" | "sessions" | "detail">>> {
  const target = await resolve(event.subject, deps);
  const users = usersOf(target);
  const about = describeSubject(event.subject);
  const rows = (outcome: SecurityEventOutcomeName, sessions: (userId: string) => number = () => 0, detail: string | null = about) =>
    users.length === 0
      ? [{ userId: null, outcome: effect === "log" ? "logged" : "no_match", sessions: 0, detail: target.note ? `${about}: ${target.note}` : about }]
      : users.map((userId) => ({ userId, outcome, sessions: sessions(userId), detail }));
  const sessionsOf = (userId: string) => target.sessions.filter((s) => s.userId === userId).length;
  if (typeof effect === "function") return rows("hook_called", undefined, short(await effect(event, { userIds: users })) ?? about);
  switch (effect) {
    case "end-sessions": {
      const ended = new Map<string, number>();
      if (target.where) await deps.kit.sessions.revokeByProvider(target.where);
      else for (const s of target.sessions) await deps.kit.sessions.revoke(s.sid, { by: "provider" });
      for (const userId of target.users) ended.set(userId, await deps.kit.sessions.revokeAll(userId, { by: "provider" }));
      return rows("sessions_ended", (userId) => ended.get(userId) ?? sessionsOf(userId));
    }
    case "end-user-sessions": {
      const ended = new Map<string, number>();
      for (const userId of users) ended.set(userId, await deps.kit.sessions.revokeAll(userId, { by: "provider" }));
      return rows("sessions_ended", (userId) => ended.get(userId) ?? 0);
    }
    case "reload-claims":
      for (const userId of users) await deps.kit.sessions.reloadClaims(userId);
      return rows("claims_reloaded");
    case "step-up":
      return rows("step_up_required");
    case "hook":
      if (!deps.hook) return rows("logged", undefined, `${about}: no hook configured`);
      return rows("hook_called", undefined, short(await deps.hook(event, { userIds: users })) ?? about);
    case "log":
      return rows("logged");
  }
}
