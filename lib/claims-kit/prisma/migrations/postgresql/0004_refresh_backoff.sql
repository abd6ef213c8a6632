-- claims-kit 0.4: the token vault's back-off after failed refresh attempts (PostgreSQL), shared by
-- every instance: failed attempts in a row, the last one's code, and no provider call for the
-- grant before refreshRetryAt (seconds since epoch). All NULL while refreshing works.

ALTER TABLE "Account"
  ADD COLUMN "refreshFailures" INTEGER,
  ADD COLUMN "refreshFailedWith" TEXT,
  ADD COLUMN "refreshRetryAt" INTEGER;
