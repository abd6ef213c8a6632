// Every code the kit reports, in one place: the engine's, each plugin's and feature's, and the
// client helpers'. Each table says what a code means and what the app should do; the types are
// derived from the tables, so a new code is one line here (and one row of docs/errors.md, which
// `npm run docs` regenerates from these tables).

/** A table of codes: what each means, and what the app (or its operator) should do about it. */
type CodeTable = Readonly<Record<string, { readonly means: string; readonly action: string }>>;

/** Thrown at start-up by `claimsKit()` and the builders, naming the option at fault. */
export const STARTUP_CODES = {
  invalid_option: { means: "an option is missing or invalid; the message and `error.option` name it", action: "fix the option (the server does not start until then)" },
  duplicate_plugin: { means: "two plugins share an id", action: "give each plugin its own id" },
  claim_conflict: { means: "two plugins declare the same claim, or an intent name is taken", action: "rename one, or leave the claim to one plugin" },
  claim_protected: { means: "a plugin declares a protected claim (`sub`, `exp`, `auth_time`…)", action: "use another name" },
  claim_sensitive: { means: "a claim's name looks like a secret in a token-visible claim", action: "keep it server-side (`claim.server`) or rename it" },
} as const satisfies CodeTable;

/** Recorded on the token for a plugin's step (`session.errors[pluginId]`, `session.errors.kit`). */
export const STEP_CODES = {
  claim_not_owned: { means: "a plugin wrote a claim it does not declare; its patch was refused whole", action: "a plugin bug: return only the plugin's own claims" },
  claim_invalid: { means: "a value failed its claim's check or size limit; a loader's claims were cleared (fail closed)", action: "fix the data or the check; the claim stays cleared until a load passes" },
  claim_protected: { means: "a plugin tried to write a protected claim", action: "a plugin bug: protected claims are the kit's" },
  claim_sensitive: { means: "a client-visible value looked like a raw credential (an API key, a JWT) and was refused", action: "keep such values server-side" },
  plugin_failed: { means: "a hook or store threw; the session kept its last good claims", action: "transient: retried on the next request; look at the log line" },
  load_failed: { means: "a loader threw (a database hiccup); the reload is all or nothing, retried next request", action: "transient; if it persists, check the loader's data source" },
} as const satisfies CodeTable;

/** A rejected `useSession().update()` or server update (`session.update.code`); the session is unchanged. */
export const UPDATE_CODES = {
  update_malformed: { means: "the payload is not `{ intent, input?, nonce? }`", action: "send a named intent (`useClaims().run()`)" },
  unknown_intent: { means: "no plugin declares that intent", action: "use one of `kit.intents`" },
  invalid_input: { means: "the intent's schema refused the input; the detail says where", action: "show the user what to correct" },
  forbidden: { means: "a staged server update was not this session's (or has expired)", action: "call `updateSession()` from the request that stages it" },
  not_signed_in: { means: "no session", action: "sign in" },
} as const satisfies CodeTable;

/** The tenant plugin's (`session.update.code` of a switch, `session.errors.tenant`). */
export const TENANT_CODES = {
  not_a_member: { means: "a switch named a tenant the user does not belong to; the tenant stayed as it was", action: "offer only the user's tenants" },
} as const satisfies CodeTable;

/** The size budget's (`session.errors.budget`, `session.update.code`, a refused sign-in). */
export const BUDGET_CODES = {
  budget_exceeded: { means: "the cookie would exceed its budget with only required claims left (an update: refused whole)", action: "move claims server-side or raise the budget" },
} as const satisfies CodeTable;

/** OAuth refresh (`session.errors.oauth`); transient ones are retried after a back-off shared by every instance. */
export const OAUTH_CODES = {
  server_error: { means: "5xx, a non-token answer, or a gateway page: transient", action: "nothing: back-off, then retry" },
  network: { means: "no connection, a dropped one, or discovery failed: transient", action: "nothing: back-off, then retry" },
  timeout: { means: "no answer within `timeoutMs`: transient", action: "nothing: back-off, then retry" },
  rate_limited: { means: "429: no call before its Retry-After", action: "nothing: retried after it" },
  invalid_id_token: { means: "the refreshed id_token does not match sign-in (issuer, audience, subject) or does not validate", action: "nothing of that answer is used; retried (or `reauth_required`)" },
  refresh_rejected: { means: "a 4xx the kit has no name for (LemonLDAP's `invalid_request`)", action: "one confirming attempt after the back-off, then `invalid_grant`" },
  client_error: { means: "the provider refuses this client (`invalid_client`, `unauthorized_client`…)", action: "fix the client's registration or credentials; retried after `clientErrorRetrySeconds`" },
  invalid_grant: { means: "the refresh token is revoked, reused, expired, or rejected twice", action: "send the user to sign in again (`useReauthOnRevokedGrant`)" },
  reauth_required: { means: "the provider wants the user, or the refresh token was consumed by an unusable answer", action: "send the user to sign in again" },
  revoked: { means: "`revokeUser()` revoked the grant", action: "the user signs in again" },
  no_refresh_token: { means: "sign-in brought no refresh token (`offline_access` + `prompt=consent`?)", action: "the access token serves until expiry, then sign in again" },
} as const satisfies CodeTable;

/** At sign-in: thrown from `withUserinfo()`'s `profile()` (Auth.js refuses the sign-in), or `linkableEmail()`'s. */
export const SIGN_IN_CODES = {
  userinfo_failed: { means: "the id_token lacked profile claims and userinfo could not be read", action: "retry the sign-in; check the provider's userinfo endpoint" },
  userinfo_sub_mismatch: { means: "userinfo named another subject than the id_token", action: "a provider fault: nothing is merged or linked" },
  email_missing: { means: "the profile has no email to link by", action: "sign in creates no link" },
  email_unsafe: { means: "the address would lower-case onto another (non-ASCII folding)", action: "the sign-in is refused" },
} as const satisfies CodeTable;

/** OIDC back-channel logout: every refusal is a 400 whose `error_description` starts with the code (`logout_failed` too). */
export const BACKCHANNEL_CODES = {
  missing_token: { means: "no `logout_token` in the form body", action: "a misdirected request" },
  malformed_token: { means: "not a signed JWT the receiver can read", action: "a forged or garbled request" },
  unsupported_alg: { means: "signed with an algorithm outside the allow-list", action: "check the client's `id_token_signed_response_alg`" },
  invalid_typ: { means: "`typ` is not `logout+jwt` (or a JWT)", action: "a forged request, or another token type" },
  invalid_signature: { means: "no key of the provider verifies it", action: "a forged request" },
  invalid_issuer: { means: "another issuer", action: "check the configured issuer" },
  invalid_audience: { means: "not for this client", action: "check the client id" },
  expired: { means: "past its `exp`", action: "the provider retries with a new token" },
  invalid_iat: { means: "`iat` outside the accepted window", action: "check both clocks" },
  missing_jti: { means: "no `jti` to catch replays with", action: "a provider fault" },
  invalid_events: { means: "not a back-channel logout event", action: "a forged request" },
  nonce_present: { means: "a `nonce` (forbidden in logout tokens)", action: "a forged request (an id_token)" },
  missing_subject: { means: "neither `sid` nor `sub`", action: "a provider fault" },
  replayed: { means: "this `jti` was seen already (any instance)", action: "nothing: the first one was handled" },
  provider_unavailable: { means: "the provider's metadata or keys could not be fetched (cooldown 10 s)", action: "the provider retries" },
  logout_failed: { means: "the sessions could not be ended (the registry failed)", action: "the provider retries; check the database" },
} as const satisfies CodeTable;

/**
 * The Shared Signals receiver (`sharedSignals()`): why a Security Event Token was refused. Push
 * answers carry them as RFC 8935 error bodies, `{ "err": <RFC 8935 code>, "description": "<code>: …" }`;
 * poll reports them in `setErrs`. A refused event changes nothing.
 */
export const SSF_CODES = {
  missing_token: { means: "no SET in the request (POST one `application/secevent+jwt` body)", action: "a misdirected request" },
  body_too_large: { means: "the body exceeds 64 KB (answered 413 before reading it)", action: "a misdirected or hostile request" },
  authentication_failed: { means: "the push request lacks the configured bearer token (RFC 8935 `authentication_failed`)", action: "give the transmitter the stream's `authorization_header`" },
  malformed_token: { means: "not a signed JWT the receiver can read", action: "a forged or garbled request" },
  unsupported_alg: { means: "signed with an algorithm outside the allow-list (`invalid_key`)", action: "check the transmitter's signing algorithm against `algorithms`" },
  invalid_typ: { means: "`typ` is not `secevent+jwt` (SSF requires explicit typing)", action: "another kind of JWT, or a transmitter fault" },
  invalid_signature: { means: "no key of the transmitter's JWKS verifies it (`invalid_key`)", action: "a forged request, or keys rotated without publishing" },
  invalid_issuer: { means: "`iss` is not the configured transmitter (`invalid_issuer`)", action: "check the configured issuer" },
  invalid_audience: { means: "`aud` does not name this receiver (`invalid_audience`)", action: "check the configured audience (the app's origin by default)" },
  expired: { means: "issued longer ago than `maxAge` (300 s)", action: "check both clocks; the transmitter should send a new event" },
  invalid_iat: { means: "`iat` missing, or in the future beyond the clock tolerance", action: "check both clocks" },
  missing_jti: { means: "no `jti` to catch replays with", action: "a transmitter fault" },
  forbidden_claim: { means: "`sub`, `exp` or `nonce` present: SSF forbids them in SETs (another kind of JWT)", action: "a forged request, or a transmitter fault" },
  invalid_events: { means: "no `events` object of event-type URIs with object payloads, more than 5 events, or a stream event (verification, stream-updated) with others", action: "a forged request, or a transmitter fault" },
  invalid_subject: { means: "no valid top-level `sub_id` (RFC 9493), an event `subject` that differs from it, or a critical subject member the receiver cannot process", action: "a transmitter fault" },
  invalid_state: { means: "a verification event whose `state` this receiver did not ask for", action: "a forged or stale verification" },
  replayed: { means: "this `jti` was received already (any instance)", action: "nothing: the first one was handled" },
  transmitter_unavailable: { means: "the transmitter's metadata or keys could not be fetched (answered 503; cooldown 10 s)", action: "the transmitter retries" },
  effect_failed: { means: "the event's effect failed (the registry or event log), or another delivery of the same SET is being applied; answered 503, the `jti` not marked received", action: "the transmitter retries; check the database" },
  poll_failed: { means: "the transmitter's poll endpoint could not be read (HTTP error, not JSON, too large, timeout)", action: "polled again at the next interval" },
} as const satisfies CodeTable;

/** `requireRecentAuth()` / `checkRecentAuth()`: why a sensitive action needs a step-up. */
export const RECENT_AUTH_CODES = {
  not_signed_in: { means: "no session", action: "sign in" },
  auth_time_unknown: { means: "the provider sent no `auth_time`", action: "step up (`max_age` makes it send one)" },
  auth_too_old: { means: "authenticated longer ago than `maxAge`", action: "step up through the provider" },
  acr_not_met: { means: "authenticated with another `acr` than required", action: "step up with `acr_values`" },
  step_up_failed: { means: "the provider came back from a step-up without meeting it", action: "show the user; never loops" },
  step_up_required: { means: "the provider reported a change of the user's assurance level after this sign-in (CAEP `assurance-level-change`)", action: "step up (`max_age=0`, and the configured `acr`)" },
} as const satisfies CodeTable;

/** The session-cookie codec's `open()` (`claims-kit/codec`): why a cookie did not open. */
export const CODEC_CODES = {
  malformed: { means: "not a compact JWE", action: "treated as no session" },
  header_refused: { means: "a header the codec does not accept (alg, enc, zip…)", action: "treated as no session" },
  unknown_key: { means: "no secret's key matches its `kid`", action: "an old secret: rotate with a secret list" },
  tag_mismatch: { means: "tampered, or another secret", action: "treated as no session" },
  claims_invalid: { means: "the plaintext is not a claims object", action: "treated as no session" },
  expired: { means: "past its `exp`", action: "treated as no session" },
  not_yet_valid: { means: "before its `nbf`", action: "check the clocks" },
} as const satisfies CodeTable;

/** Client and server helpers' own (`useClaims().run()`, `updateSession()`), besides the update codes. */
export const CLIENT_CODES = {
  busy: { means: "next-auth's `update()` was still loading the session and sent nothing", action: "retry the action" },
  no_response: { means: "the answer does not carry this update's verdict (another tab's update won)", action: "re-read the session" },
} as const satisfies CodeTable;

/** `kit.sessions.purge()`: thrown before it deletes anything. */
export const RETENTION_CODES = {
  purge_unsupported: { means: "a store given to `purge()` lacks its retention methods (`expire`/`purgeEnded`, `purge`); the error names it", action: "use the kit's Prisma or memory stores, or implement the optional methods in your own" },
} as const satisfies CodeTable;

/** Every table, by where its codes show up (docs/errors.md is generated from it). */
export const ERROR_CODES = {
  startup: STARTUP_CODES,
  step: STEP_CODES,
  update: UPDATE_CODES,
  tenant: TENANT_CODES,
  budget: BUDGET_CODES,
  oauth: OAUTH_CODES,
  signIn: SIGN_IN_CODES,
  backchannel: BACKCHANNEL_CODES,
  ssf: SSF_CODES,
  recentAuth: RECENT_AUTH_CODES,
  codec: CODEC_CODES,
  client: CLIENT_CODES,
  retention: RETENTION_CODES,
} as const;

export type StartupErrorCode = keyof typeof STARTUP_CODES;
export type StepErrorCode = keyof typeof STEP_CODES;
export type UpdateErrorCode = keyof typeof UPDATE_CODES;
export type TenantErrorCode = keyof typeof TENANT_CODES;
export type BudgetErrorCode = keyof typeof BUDGET_CODES;
export type OAuthErrorCode = keyof typeof OAUTH_CODES;
export type SignInErrorCode = keyof typeof SIGN_IN_CODES;
export type BackchannelErrorCode = keyof typeof BACKCHANNEL_CODES;
export type SsfErrorCode = keyof typeof SSF_CODES;
export type RecentAuthCode = keyof typeof RECENT_AUTH_CODES;
export type CodecErrorCode = keyof typeof CODEC_CODES;
export type ClientErrorCode = keyof typeof CLIENT_CODES;
export type RetentionErrorCode = keyof typeof RETENTION_CODES;

/** Every code the kit reports: a closed union, so a `switch` over it is checked. Stable. */
export type KitErrorCode = { [K in keyof typeof ERROR_CODES]: keyof (typeof ERROR_CODES)[K] }[keyof typeof ERROR_CODES];

/**
 * Every result the kit hands back: success with its fields, or a refusal with a stable code.
 * `kind` says which: `"refused"` (the rules said no: final, asking again gets the same answer) or
 * `"failed"` (something broke, e.g. a database or network error: may pass on its own).
 *
 * @example
 * ```ts
 * const r: Result<{ email: string }, "email_missing"> = linkableEmail(profile.email);
 * if (!r.ok) console.warn(r.code, r.kind);
 * ```
 */
export type Result<T extends object = object, C extends string = KitErrorCode, F extends object = object> = ({ ok: true } & T) | (Refusal<C> & F);

/** The failing half of a {@link Result}. */
export interface Refusal<C extends string = KitErrorCode> {
  ok: false;
  code: C;
  kind: "refused" | "failed";
  /** For logs and developers; never shown to users as is, never carries token values. */
  detail?: string;
}

/**
 * The toolkit's one error class. `code` is one of the kit's codes ({@link KitErrorCode}, a closed
 * union); a third-party plugin that throws its own codes names them: `ClaimsKitError<"over_quota">`.
 *
 * @example
 * ```ts
 * try { claimsKit({ plugins: [roles(), roles()] }) }
 * catch (e) { if (e instanceof ClaimsKitError && e.code === "duplicate_plugin") ... }
 * ```
 */
export class ClaimsKitError<C extends string = KitErrorCode> extends Error {
  readonly code: C;
  /**
   * For `invalid_option`: the option at fault, as named in the message (`"algorithms"`), so an app
   * that reads its options from the environment can name its own variable.
   */
  readonly option?: string;
  constructor(code: C, message: string, options?: { cause?: unknown; option?: string }) {
    super(message, options && "cause" in options ? { cause: options.cause } : undefined);
    this.name = "ClaimsKitError";
    this.code = code;
    if (options?.option !== undefined) this.option = options.option;
  }
}

/** What a failure looks like on the token: the code, and when (seconds since epoch). */
export interface KitErrorRecord {
  code: string;
  at: number;
}

/**
 * Throw a start-up error naming the option at fault.
 *
 * @example
 * ```ts
 * if (!opts.load) invalidOption("roles", "load", "must be a function");
 * ```
 */
export function invalidOption(where: string, option: string, problem: string): never {
  throw new ClaimsKitError("invalid_option", `${where}: option "${option}" ${problem}`, { option });
}

/**
 * Narrow an unknown throw to a code (ClaimsKitError keeps its own, anything else gets `fallback`).
 *
 * @example
 * ```ts
 * catch (err) { recordError(codeOf(err, "plugin_failed")); }
 * ```
 */
export function codeOf(err: unknown, fallback: KitErrorCode): string {
  return err instanceof ClaimsKitError ? (err.code as string) : fallback;
}

/** The message of anything thrown. */
export const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** One engine step's result (plugins' own codes included): the caller decides whether (and where) to record a failure. */
export type Outcome<T extends object = object> = Result<T, string, { detail: string }>;
/** A step's failure: refused by the rules, or failed (the hook threw: a database hiccup may pass on its own). */
export type Failure = Refusal<string> & { detail: string };
