-- claims-kit 0.5: sessions under Auth.js's database strategy. The kit's side of a session (claims,
-- the user's choices, bookkeeping: what the session cookie carries under the JWT strategy) is kept
-- with its registry row, and the Auth.js Session row it belongs to is named so that revoking the
-- session ends that row too. Both NULL for JWT-strategy sessions.

ALTER TABLE "UserSession" ADD COLUMN "state" TEXT;
ALTER TABLE "UserSession" ADD COLUMN "authSessionId" TEXT;
