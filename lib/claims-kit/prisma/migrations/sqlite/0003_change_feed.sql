-- claims-kit 0.3: the registry's change log (SQLite). Every revocation, claims-version bump,
-- offline patch and epoch bump appends a row; each process keeps the registry state it needs in
-- memory and reads only the rows after the last one it saw (woken by a change feed, or a poll).

CREATE TABLE "KitChange" (
    "seq" INTEGER PRIMARY KEY AUTOINCREMENT,
    "kind" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "at" INTEGER NOT NULL
);
CREATE INDEX "KitChange_at_idx" ON "KitChange"("at");
