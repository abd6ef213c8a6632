-- AlterTable
ALTER TABLE "Account" ADD COLUMN     "refreshCount" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "refreshError" TEXT,
ADD COLUMN     "refreshLeaseOwner" TEXT,
ADD COLUMN     "refreshLeaseUntil" INTEGER,
ADD COLUMN     "refreshedAt" INTEGER;

