import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { encode } from "@auth/core/jwt";
import type { AppSession } from "./harness";
import { measureToken } from "../../lib/claims-kit/plugin";
import { startHarness, type Harness, SECRET } from "./harness";

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(async () => {
  await h.close();
});

describe("cookie size budget with a real provider profile", () => {
  test("a user with 120 long group names and a 300-character name still gets one cookie under 2 KB", async () => {
    const b = h.browser();
    await b.signIn("grace+big@example.com");
    const cookies = b.jar.names().filter((n) => n.startsWith("authjs.session-token"));
    assert.deepEqual(cookies, ["authjs.session-token"], "one chunk");
    const value = b.jar.get("authjs.session-token")!;
    assert.ok(value.length + "authjs.session-token=".length <= 2048, `cookie is ${value.length} bytes`);

    const token = await b.token();
    const k = token?._k as { m?: string[]; d?: string[] };
    assert.deepEqual(k.m, ["groups"], "groups moved server-side");
    assert.equal(k.d, undefined, "nothing had to be dropped");
    assert.equal(token?.groups, undefined);

    // The app still reads the same claims: the session puts moved client claims back.
    const session = await b.session<AppSession>();
    assert.equal(session?.claims.groups?.length, 120);
    assert.equal(session?.errors, undefined, "no claim failed on the big profile");
    assert.equal(session?.claims.displayName?.length, 60, "a 300-character name is cut to the display name's limit");
    assert.match(session!.claims.groups![0]!, /^engineering-platform-team-\d{3}-long-name$/);
    const moved = (await h.internals.readServerData(token as never)) as { groups?: string[] };
    assert.equal(moved.groups?.length, 120);
  });

  test("the measurement equals the cookie Auth.js really writes", async () => {
    const b = h.browser();
    await b.signIn("alice@example.com");
    const value = b.jar.get("authjs.session-token")!;
    const { decode } = await import("@auth/core/jwt");
    const raw = (await decode({ token: value, secret: SECRET, salt: "authjs.session-token" }))!;
    const { iat: _i, exp: _e, jti: _j, ...claims } = raw;
    assert.equal(measureToken(claims).cookies[0]!.valueBytes, value.length);
    const reencoded = await encode({ token: claims, secret: SECRET, salt: "authjs.session-token" });
    assert.equal(reencoded.length, value.length);
  });
});
