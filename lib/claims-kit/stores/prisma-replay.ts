import type { ReplayStore } from "../engine/ports";
import type { RawSqlClient } from "./prisma-sessions";

/**
 * A {@link ReplayStore} over the table `KitReplay` ("key" primary key, "expiresAt" in seconds):
 * the first insert of a key wins in every process sharing the database; expired keys are swept on
 * each call (the table only ever holds keys of the last few minutes).
 *
 * @example
 * ```ts
 * backchannelLogout(() => ({ kit, issuer, clientId, replay: prismaReplayStore(prisma) }))
 * ```
 */
export function prismaReplayStore(db: RawSqlClient): ReplayStore {
  return {
    async once(key, expiresAt, now) {
      await db.$executeRaw`DELETE FROM "KitReplay" WHERE "expiresAt" < ${now}`;
      // One statement decides: concurrent deliveries of the same key to two instances insert once.
      const inserted = await db.$executeRaw`
        INSERT INTO "KitReplay" ("key", "expiresAt") VALUES (${key.slice(0, 512)}, ${expiresAt})
        ON CONFLICT ("key") DO NOTHING`;
      return inserted === 1;
    },
    async forget(key) {
      await db.$executeRaw`DELETE FROM "KitReplay" WHERE "key" = ${key.slice(0, 512)}`;
    },
  };
}
