-- claims-kit 0.3: the registry's change log (PostgreSQL). Every revocation, claims-version bump,
-- offline patch and epoch bump appends a row and NOTIFYs channel claims_kit_changes; each process
-- keeps the registry state it needs in memory and reads only the rows after the last one it saw.

CREATE TABLE "KitChange" (
    "seq" SERIAL NOT NULL,
    "kind" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "at" INTEGER NOT NULL,
    CONSTRAINT "KitChange_pkey" PRIMARY KEY ("seq")
);
CREATE INDEX "KitChange_at_idx" ON "KitChange"("at");
