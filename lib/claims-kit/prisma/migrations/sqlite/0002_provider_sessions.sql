-- claims-kit 0.2: sessions that follow the identity provider (SQLite).
-- The provider's issuer, subject and session id recorded at sign-in (back-channel logout revokes
-- by them), who ended a session, and one-time logout-token ids (replay detection).

ALTER TABLE "UserSession" ADD COLUMN "idpIssuer" TEXT;
ALTER TABLE "UserSession" ADD COLUMN "idpSubject" TEXT;
ALTER TABLE "UserSession" ADD COLUMN "idpSid" TEXT;
ALTER TABLE "UserSession" ADD COLUMN "endedBy" TEXT;
CREATE INDEX "UserSession_idpIssuer_idpSid_idx" ON "UserSession"("idpIssuer", "idpSid");
CREATE INDEX "UserSession_idpIssuer_idpSubject_idx" ON "UserSession"("idpIssuer", "idpSubject");

CREATE TABLE "KitReplay" (
    "key" TEXT NOT NULL PRIMARY KEY,
    "expiresAt" INTEGER NOT NULL
);
CREATE INDEX "KitReplay_expiresAt_idx" ON "KitReplay"("expiresAt");
