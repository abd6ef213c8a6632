-- claims-kit 0.1: the tables and columns its Prisma stores use (SQLite).
-- Needs the Auth.js tables "User" and "Account" (@auth/prisma-adapter's models) to exist.

ALTER TABLE "User" ADD COLUMN "claimsVersion" INTEGER NOT NULL DEFAULT 0;

ALTER TABLE "Account" ADD COLUMN "refreshLeaseOwner" TEXT;
ALTER TABLE "Account" ADD COLUMN "refreshLeaseUntil" INTEGER;
ALTER TABLE "Account" ADD COLUMN "refreshedAt" INTEGER;
ALTER TABLE "Account" ADD COLUMN "refreshCount" INTEGER NOT NULL DEFAULT 0;
ALTER TABLE "Account" ADD COLUMN "refreshError" TEXT;
ALTER TABLE "Account" ADD COLUMN "refreshErrorAt" INTEGER;

CREATE TABLE "SessionData" (
    "key" TEXT NOT NULL PRIMARY KEY,
    "userId" TEXT NOT NULL,
    "data" TEXT NOT NULL,
    "expiresAt" DATETIME,
    "updatedAt" DATETIME NOT NULL,
    CONSTRAINT "SessionData_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE INDEX "SessionData_userId_idx" ON "SessionData"("userId");

CREATE TABLE "UserSession" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "userId" TEXT NOT NULL,
    "userAgent" TEXT,
    "createdAt" INTEGER NOT NULL,
    "lastSeenAt" INTEGER NOT NULL,
    "revokedAt" INTEGER,
    "pendingPatch" TEXT,
    CONSTRAINT "UserSession_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE INDEX "UserSession_userId_idx" ON "UserSession"("userId");

CREATE TABLE "KitSetting" (
    "key" TEXT NOT NULL PRIMARY KEY,
    "value" TEXT NOT NULL
);
