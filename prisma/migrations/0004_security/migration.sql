-- Terminal refresh errors are retried after a back-off counted from when they were recorded.
ALTER TABLE "Account" ADD COLUMN "refreshErrorAt" INTEGER;

-- Permission grants are scoped to a tenant membership. Per-user grants (User.grants) stay as the
-- separate, explicit "global grants" kind; existing ones move to the user's memberships, which is
-- where they applied in practice, so no user keeps a grant after leaving every tenant.
ALTER TABLE "Membership" ADD COLUMN "grants" TEXT NOT NULL DEFAULT '';
UPDATE "Membership" SET "grants" = (SELECT u."grants" FROM "User" u WHERE u."id" = "Membership"."userId");
UPDATE "User" SET "grants" = '';
