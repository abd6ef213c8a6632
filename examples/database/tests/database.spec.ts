import Database from "better-sqlite3";
import { expect, test, type BrowserContext, type Page } from "@playwright/test";
// The same sign-in a person does on the bundled provider as the reference app's e2e (this test runs
// on the root's Playwright, against the same provider).
import { forgeUpdate as forge, signIn } from "../../../tests/e2e/helpers";
import { DB_FILE } from "../playwright.config";

type SessionJson = { user: { email?: string }; claims: Record<string, unknown>; update?: { intent?: string; code?: string } } | null;
type SessionRow = { id: string; userId: string };
type RegistryRow = { id: string; userId: string; revokedAt: number | null; endedBy: string | null; state: string | null };

// The app's own database file, read directly: what Auth.js and the kit stored, not what they say.
let db: Database.Database;
test.beforeAll(() => {
  db = new Database(DB_FILE);
  db.pragma("foreign_keys = ON");
});
test.afterAll(() => db.close());

/** A user who exists before signing in (as an app's admin or import would make one), linked to the provider's subject. */
function seedUser(user: { id: string; email: string; name: string; role: string; nickname: string; subject: string }): void {
  db.prepare('DELETE FROM "User" WHERE "email" = ?').run(user.email);
  db.prepare(`INSERT INTO "User" ("id", "email", "name", "role", "nickname", "updatedAt") VALUES (?, ?, ?, ?, ?, CURRENT_TIMESTAMP)`)
    .run(user.id, user.email, user.name, user.role, user.nickname);
  db.prepare(`INSERT INTO "Account" ("id", "userId", "type", "provider", "providerAccountId", "updatedAt") VALUES (?, ?, 'oidc', 'oidc', ?, CURRENT_TIMESTAMP)`)
    .run(`${user.id}-oidc`, user.id, user.subject);
}

/** The session as `useSession()` sees it (the browser context's cookies). */
async function readSession(page: Page): Promise<SessionJson> {
  const response = await page.request.get("/api/auth/session");
  expect(response.ok()).toBe(true);
  return (await response.json()) as SessionJson;
}

/** Auth.js's session cookie: under the database strategy, the Session row's random token. */
async function sessionToken(context: BrowserContext): Promise<string> {
  const cookie = (await context.cookies()).find((c) => c.name === "authjs.session-token");
  expect(cookie, "the session cookie").toBeDefined();
  return cookie!.value;
}

const sessionRow = (token: string) => db.prepare('SELECT "id", "userId" FROM "Session" WHERE "sessionToken" = ?').get(token) as SessionRow | undefined;
const registryRow = (authSessionId: string) =>
  db.prepare('SELECT "id", "userId", "revokedAt", "endedBy", "state" FROM "UserSession" WHERE "authSessionId" = ?').all(authSessionId) as RegistryRow[];
const userRow = (id: string) => db.prepare('SELECT "role", "nickname" FROM "User" WHERE "id" = ?').get(id) as { role: string; nickname: string | null };
/** The claims the kit stored for a session (its state, without the kit's own bookkeeping). */
function storedClaims(authSessionId: string): Record<string, unknown> {
  const [row] = registryRow(authSessionId);
  const { role, permissions, nickname } = JSON.parse(row!.state!) as Record<string, unknown>;
  return { role, permissions, nickname };
}

test("a seeded staff user: claims from the database session, a validated intent, forged updates refused, sign-out ends the row", async ({ page, context }) => {
  // The dev provider's subject for a login is its tag-free address, lower-cased.
  seedUser({ id: "seeded-dana", email: "dana@example.com", name: "Dana", role: "staff", nickname: "Dee", subject: "dana@example.com" });
  await signIn(page, "dana@example.com");

  // Rendered on the server from auth(): the role and nickname from the User row, permissions from the role.
  await expect(page.getByTestId("signed-in-as")).toHaveText("dana@example.com");
  await expect(page.getByTestId("role")).toHaveText("staff");
  await expect(page.getByTestId("permissions")).toHaveText("notes:read, notes:write, members:manage");
  await expect(page.getByTestId("nickname")).toHaveText("Dee");

  // The cookie is Auth.js's opaque session token (no JWT, no claims in it): it names a Session row
  // of this user, and the kit's registry row for that session holds the claims.
  const token = await sessionToken(context);
  expect(token.startsWith("eyJ"), "an opaque token, not a JWT").toBe(false);
  expect(token).not.toContain(".");
  const row = sessionRow(token);
  expect(row?.userId).toBe("seeded-dana");
  const authSessionId = row!.id;
  expect(registryRow(authSessionId)).toEqual([expect.objectContaining({ userId: "seeded-dana", revokedAt: null, endedBy: null })]);
  const initial = await readSession(page);
  expect(initial?.claims).toEqual({ role: "staff", permissions: expect.any(String), nickname: "Dee" });
  expect(storedClaims(authSessionId)).toEqual(initial?.claims);

  // The intent, from the client component through useSession().update(): validated by its schema,
  // applied to the stored session, saved to the User row by its commit.
  const nickname = page.getByLabel("New nickname");
  const status = page.getByTestId("nickname-status");
  await nickname.fill("Dana 42");
  await page.getByRole("button", { name: "Save nickname" }).click();
  await expect(status).toHaveText("saved");
  await expect(page.getByTestId("nickname")).toHaveText("Dana 42");
  expect(userRow("seeded-dana")).toEqual({ role: "staff", nickname: "Dana 42" });
  const saved = await readSession(page);
  expect(saved?.claims).toEqual({ ...initial?.claims, nickname: "Dana 42" });
  expect(storedClaims(authSessionId)).toEqual(saved?.claims);

  // Input the schema refuses: nothing changes, in the session or the database.
  await nickname.fill("   ");
  await page.getByRole("button", { name: "Save nickname" }).click();
  await expect(status).toHaveText("refused: invalid_input");

  // A forged update() with raw claims is not an intent; an intent may not smuggle in another claim;
  // an intent nobody declared does not exist. Each is refused with its code.
  const forged = await forge<SessionJson>(page, { role: "staff", nickname: "x" });
  expect(forged?.update?.code).toBe("update_malformed");
  const smuggled = await forge<SessionJson>(page, { intent: "setNickname", input: { nickname: "y", role: "user" } });
  expect(smuggled?.update?.code).toBe("invalid_input");
  const unknown = await forge<SessionJson>(page, { intent: "setRole", input: { role: "user" } });
  expect(unknown?.update?.code).toBe("unknown_intent");
  for (const answer of [forged, smuggled, unknown]) expect(answer?.claims).toEqual(saved?.claims);
  // The same session, unchanged: its row, its stored claims, the User row.
  expect(await sessionToken(context)).toBe(token);
  expect(sessionRow(token)?.id).toBe(authSessionId);
  expect(storedClaims(authSessionId)).toEqual(saved?.claims);
  expect(userRow("seeded-dana")).toEqual({ role: "staff", nickname: "Dana 42" });
  await page.reload();
  await expect(page.getByTestId("nickname")).toHaveText("Dana 42");

  // Sign out: Auth.js deletes the Session row; the kit ends its registry row with it.
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page.getByRole("button", { name: "Sign in" })).toBeVisible();
  expect(sessionRow(token)).toBeUndefined();
  expect(registryRow(authSessionId)).toEqual([expect.objectContaining({ revokedAt: expect.any(Number), endedBy: "user" })]);
  expect(await readSession(page)).toBeNull();
});

test("a first sign-in creates the user through the adapter: role user, its permissions, no nickname", async ({ page, context }) => {
  db.prepare('DELETE FROM "User" WHERE "email" = ?').run("erin@example.com");
  await signIn(page, "erin@example.com");
  await expect(page.getByTestId("role")).toHaveText("user");
  await expect(page.getByTestId("permissions")).toHaveText("notes:read");
  await expect(page.getByTestId("nickname")).toHaveText("(none)");
  const user = db.prepare('SELECT "id", "role" FROM "User" WHERE "email" = ?').get("erin@example.com") as { id: string; role: string };
  expect(user.role).toBe("user");
  expect(sessionRow(await sessionToken(context))?.userId).toBe(user.id);
});
