// Security round 3 (#22, item 3): the back-channel logout options come from the environment and are
// read lazily (next build needs none). A bad AUTH_OIDC_LOGOUT_ALGS used to boot fine, then every
// logout token got a 500 and provider logouts silently stopped ending sessions: `next start` must
// refuse to start instead, naming the variable.
import assert from "node:assert/strict";
import { afterEach, test } from "node:test";
import { register } from "../../instrumentation";

const saved = { algs: process.env.AUTH_OIDC_LOGOUT_ALGS, runtime: process.env.NEXT_RUNTIME };
afterEach(() => {
  for (const [name, value] of [["AUTH_OIDC_LOGOUT_ALGS", saved.algs], ["NEXT_RUNTIME", saved.runtime]] as const) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

test("attack: start-up refuses AUTH_OIDC_LOGOUT_ALGS with HS*, none, a typo or nothing, naming the variable", async () => {
  process.env.NEXT_RUNTIME = "nodejs";
  for (const value of ["RS256,HS256", "none", "RS265", "", " , "]) {
    process.env.AUTH_OIDC_LOGOUT_ALGS = value;
    await assert.rejects(register(), (e: unknown) => e instanceof Error && /AUTH_OIDC_LOGOUT_ALGS/.test(e.message), `AUTH_OIDC_LOGOUT_ALGS=${JSON.stringify(value)} booted`);
  }
  for (const value of ["RS256", "RS256, PS256", "ES256,EdDSA"]) {
    process.env.AUTH_OIDC_LOGOUT_ALGS = value;
    await register();
  }
  delete process.env.AUTH_OIDC_LOGOUT_ALGS;
  await register(); // the default, RS256
});
