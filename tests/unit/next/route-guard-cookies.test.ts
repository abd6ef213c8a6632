// The Auth.js route guard (next/internal/route-guard.ts): which requests keep the session cookie,
// and when stale ones are expired (security reviews: account linking).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { expireRemoved, guardAuthRequest } from "@/lib/claims-kit/next/internal/route-guard";

describe("the Auth.js route guard (reviews: account linking)", () => {
  const cookie = "a=1; authjs.session-token.0=x; authjs.session-token.1=y; __Secure-authjs.session-token=z; authjs.session-tokenX=s; authjs.session-token-old=o; authjs.csrf-token=c";
  const removedFrom = (url: string) => guardAuthRequest(new Request(url, { headers: { cookie } }));

  test("strips every cookie Auth.js would read as the session (its name as a prefix) from callbacks", () => {
    const callback = removedFrom("http://localhost/api/auth/callback/oidc?code=1");
    assert.deepEqual(callback.removed, ["authjs.session-token.0", "authjs.session-token.1", "__Secure-authjs.session-token", "authjs.session-tokenX", "authjs.session-token-old"]);
    assert.equal(callback.request.headers.get("cookie"), "a=1; authjs.csrf-token=c");
  });

  test("whatever the base path or path spelling, only session and signout keep the cookie", () => {
    for (const url of ["http://localhost/api/auth//callback/oidc", "http://localhost/auth/callback/oidc", "http://localhost/app/api/auth/callback/oidc", "http://localhost/api/auth/signin/oidc", "http://localhost/api/auth/webauthn-options/passkey", "http://localhost/api/auth/callback/session", "http://localhost/api/auth/csrf"]) {
      assert.equal(removedFrom(url).removed.length, 5, url);
    }
    for (const url of ["http://localhost/api/auth/session", "http://localhost/auth/session", "http://localhost/api/auth/signout"]) {
      assert.equal(removedFrom(url).removed.length, 0, url);
      assert.equal(removedFrom(url).request.headers.get("cookie"), cookie, url);
    }
  });

  test("stale session cookies are expired only when the response issues a new session", () => {
    const signIn = new Response(null, { headers: [["set-cookie", "authjs.session-token=new; Path=/"]] });
    const expired = expireRemoved(signIn, ["authjs.session-token", "authjs.session-token.1"]).headers.getSetCookie();
    assert.deepEqual(expired.map((c) => c.split(";")[0]), ["authjs.session-token=new", "authjs.session-token.1="]);
    const csrf = new Response("{}", { headers: [["set-cookie", "authjs.csrf-token=abc; Path=/"]] });
    assert.deepEqual(expireRemoved(csrf, ["authjs.session-token"]).headers.getSetCookie(), ["authjs.csrf-token=abc; Path=/"]);
  });
});
