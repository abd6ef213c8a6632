-- claims-kit 0.1: the tables and columns its Prisma stores use (PostgreSQL).
-- Needs the Auth.js tables "User" and "Account" (@auth/prisma-adapter's models) to exist.

ALTER TABLE "User" ADD COLUMN "claimsVersion" INTEGER NOT NULL DEFAULT 0;

ALTER TABLE "Account"
  ADD COLUMN "refreshLeaseOwner" TEXT,
  ADD COLUMN "refreshLeaseUntil" INTEGER,
  ADD COLUMN "refreshedAt" INTEGER,
  ADD COLUMN "refreshCount" INTEGER NOT NULL DEFAULT 0,
  ADD COLUMN "refreshError" TEXT,
  ADD COLUMN "refreshErrorAt" INTEGER;

CREATE TABLE "SessionData" (
    "key" TEXT NOT NULL,
    "userId" TEXT NOT NULL,
    "data" TEXT NOT NULL,
    "expiresAt" TIMESTAMP(3),
    "updatedAt" TIMESTAMP(3) NOT NULL,
    CONSTRAINT "SessionData_pkey" PRIMARY KEY ("key")
);
CREATE INDEX "SessionData_userId_idx" ON "SessionData"("userId");
ALTER TABLE "SessionData" ADD CONSTRAINT "SessionData_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;

CREATE TABLE "UserSession" (
    "id" TEXT NOT NULL,
    "userId" TEXT NOT NULL,
    "userAgent" TEXT,
    "createdAt" INTEGER NOT NULL,
    "lastSeenAt" INTEGER NOT NULL,
    "revokedAt" INTEGER,
    "pendingPatch" TEXT,
    CONSTRAINT "UserSession_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "UserSession_userId_idx" ON "UserSession"("userId");
ALTER TABLE "UserSession" ADD CONSTRAINT "UserSession_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;

CREATE TABLE "KitSetting" (
    "key" TEXT NOT NULL,
    "value" TEXT NOT NULL,
    CONSTRAINT "KitSetting_pkey" PRIMARY KEY ("key")
);
