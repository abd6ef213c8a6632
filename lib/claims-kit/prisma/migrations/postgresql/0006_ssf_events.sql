-- claims-kit 0.6: the Shared Signals receiver's event log (PostgreSQL). One row per received
-- security event and user it reached (userId NULL when it reached nobody): what it did, for "your
-- sessions" pages, and the step-up an assurance-level change asks for. Kept 30 days by the store.

CREATE TABLE "KitSecurityEvent" (
    "id" TEXT NOT NULL,
    "issuer" TEXT NOT NULL,
    "jti" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "userId" TEXT,
    "issuedAt" INTEGER NOT NULL,
    "receivedAt" INTEGER NOT NULL,
    "outcome" TEXT NOT NULL,
    "sessions" INTEGER NOT NULL DEFAULT 0,
    "detail" TEXT,
    CONSTRAINT "KitSecurityEvent_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "KitSecurityEvent_userId_receivedAt_idx" ON "KitSecurityEvent"("userId", "receivedAt");
CREATE INDEX "KitSecurityEvent_receivedAt_idx" ON "KitSecurityEvent"("receivedAt");
