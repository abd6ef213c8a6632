// What the toolkit's and the app's stable codes mean, in words for people. The code stays
// available next to the message (for support and logs), never as the headline.

const WORDS: Record<string, string> = {
  not_signed_in: "You are not signed in any more: sign in again.",
  not_a_member: "You are not a member of that tenant.",
  invalid_input: "That value is not accepted.",
  busy: "Your session was still loading: try again.",
  no_response: "The server did not answer this request: try again.",
  forbidden: "Your role here does not allow this.",
  unknown_intent: "The server does not know this request.",
  update_malformed: "The server could not read this request.",
  budget_exceeded: "That would make the session cookie too large; nothing changed.",
  claim_invalid: "The server refused the new value.",
  claim_protected: "That part of the session cannot be changed.",
  claim_not_owned: "That part of the session cannot be changed from here.",
  plugin_failed: "Something failed on the server; nothing changed. Try again.",
  load_failed: "The server could not read your data; nothing changed. Try again.",
  no_credits: "You have no credits left to spend.",
  changed_meanwhile: "Someone changed this in the meantime; reload and try again.",
  // oauthRefresh: why the provider's access token could not be refreshed.
  invalid_grant: "The identity provider no longer accepts this sign-in (its grant is gone or revoked): sign in again.",
  revoked: "This sign-in was revoked at the identity provider: sign in again.",
  reauth_required: "The provider's access token expired and cannot be refreshed: sign in again.",
  no_refresh_token: "The provider gave no refresh token at sign-in: you will have to sign in again when the access token expires.",
  network: "The identity provider could not be reached; the app will try again.",
  timeout: "The identity provider did not answer in time; the app will try again.",
  server_error: "The identity provider had an error; the app will try again.",
  rate_limited: "The identity provider asked the app to slow down; it will try again later.",
  client_error: "The identity provider refused the app's request; the app will try again later.",
  invalid_id_token: "The identity provider sent an ID token the app could not verify.",
  refresh_rejected: "The identity provider rejected the app's refresh request; the app will try once more, then ask you to sign in again.",
};

/** A code in words (an unknown code gets a generic sentence: the code itself is shown beside it). */
export function describeCode(code: string): string {
  return WORDS[code] ?? "The request failed.";
}

/** What an action answers, shown next to its control: words first, the stable code on the side. */
export type Answer = { ok: boolean; message: string; code?: string } | null;

/** An intent or action result as an {@link Answer}: `ok` in the caller's words, a failure in ours. */
export function answerOf(result: { ok: true } | { ok: false; code: string }, okMessage: string, words: (code: string) => string = describeCode): Answer {
  return result.ok ? { ok: true, message: okMessage } : { ok: false, message: words(result.code), code: result.code };
}
