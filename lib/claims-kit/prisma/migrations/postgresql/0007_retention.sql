-- claims-kit 0.7: retention (kit.sessions.purge). Live sessions unused past their lifetime are
-- found by "lastSeenAt" among those not ended, ended ones by "revokedAt"; expired server-side data
-- by "expiresAt". Each purge statement reads at most a batch of rows through these indexes.

CREATE INDEX "UserSession_revokedAt_lastSeenAt_idx" ON "UserSession"("revokedAt", "lastSeenAt");
CREATE INDEX "SessionData_expiresAt_idx" ON "SessionData"("expiresAt");
