// refreshingProxy (next/internal/proxy.ts), issue #16 item 3: the proxy's hand-over of a refreshed
// cookie to the render and to a server action (one Set-Cookie per cookie on the action's response).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { encode } from "@auth/core/jwt";
import { NextRequest } from "next/server";
import { claimsKit } from "@/lib/claims-kit";
import { refreshingProxy } from "@/lib/claims-kit/next/internal/proxy";

describe("refreshingProxy and server actions", () => {
  const secret = "unit-test-secret-0123456789abcdef0123";
  const kit = claimsKit({ plugins: [] });
  const refreshed = ["authjs.session-token=NEW; Path=/; Expires=Wed, 01 Dec 2027 00:00:00 GMT; HttpOnly; SameSite=Lax"];
  const proxy = refreshingProxy({
    kit,
    cookie: () => ({ secret }),
    isDue: () => true,
    handler: async () => new Response("{}", { headers: refreshed.map((c): [string, string] => ["set-cookie", c]) }),
  });
  const request = async (headers: Record<string, string>) => {
    const value = await encode({ token: { sub: "u1" }, secret, salt: "authjs.session-token" });
    return new NextRequest("http://localhost/account", { method: "POST", headers: { cookie: `authjs.session-token=${value}; theme=dark`, ...headers } });
  };

  test("a page request gets the refreshed cookie as a Set-Cookie header, and forwards it to the render", async () => {
    const response = await proxy(await request({}));
    assert.deepEqual(response.headers.getSetCookie(), refreshed);
    assert.match(response.headers.get("x-middleware-request-cookie") ?? "", /authjs\.session-token=NEW; theme=dark/);
  });

  test("a server action gets it through Next's cookie store, so the action's own write replaces it (one Set-Cookie)", async () => {
    const response = await proxy(await request({ "next-action": "7f00aa" }));
    // On today's code the proxy set it here as well, and an action calling updateSession() sent a second one.
    assert.deepEqual(response.headers.getSetCookie(), []);
    const handed = response.headers.get("x-middleware-set-cookie") ?? "";
    assert.match(handed, /^authjs\.session-token=NEW; Path=\/; Expires=Wed, 01 Dec 2027 00:00:00 GMT; HttpOnly; SameSite=lax$/i);
    assert.match(response.headers.get("x-middleware-request-cookie") ?? "", /authjs\.session-token=NEW/);
  });
});
