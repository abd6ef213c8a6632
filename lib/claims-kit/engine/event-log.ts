// The port of the Shared Signals receiver's event log (kept apart from ports.ts, which re-exports it).

/**
 * What one received security event did to one user (or to nobody: `userId` null), as the
 * Shared Signals receiver records it. Times in seconds since the epoch.
 *
 * @example
 * ```ts
 * const row: SecurityEventRecord = { id, issuer, jti, type: "session-revoked", userId: "u1", issuedAt, receivedAt, outcome: "sessions_ended", sessions: 1, detail: "iss_sub" };
 * ```
 */
export interface SecurityEventRecord {
  id: string;
  /** The transmitter. */
  issuer: string;
  jti: string;
  /** The event's short name (`session-revoked`) when known, else its type URI. */
  type: string;
  userId: string | null;
  /** The SET's `iat`. */
  issuedAt: number;
  receivedAt: number;
  /** What the receiver did (see `SecurityEventOutcome` in `claims-kit/oidc`). */
  outcome: string;
  /** How many sessions the event ended for this user. */
  sessions: number;
  /** A short description (the subject's format, the hook's answer); never a token or an identifier's value. */
  detail: string | null;
}

/**
 * Where a Shared Signals receiver records the events it received and what each did, shared by
 * every instance: the Sessions page lists a user's, and a step-up effect is read back from it.
 *
 * @example
 * ```ts
 * const log: SecurityEventLog = prismaSecurityEventLog(prisma);
 * await log.list(userId, { limit: 10 });
 * ```
 */
export interface SecurityEventLog {
  /** Append rows; rows older than the log's retention may be dropped meanwhile. */
  record(rows: readonly SecurityEventRecord[], now: number): Promise<void>;
  /** A user's events, newest first (at most `limit`, default 20). */
  list(userId: string, options?: { limit?: number }): Promise<SecurityEventRecord[]>;
  /** The newest `issuedAt` among the user's rows with `outcome`, or null. */
  latest(userId: string, outcome: string): Promise<number | null>;
  /** Retention: delete at most `limit` rows received before `before` (seconds), returning how many. */
  purge?(before: number, limit: number): Promise<number>;
}
