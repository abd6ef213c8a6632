import { createHash } from "node:crypto";
import type { ReplayStore } from "../engine/ports";
import type { RawSqlClient } from "./prisma-sessions";
import { isPostgres } from "./sql-dialect";

const KEY_MAX = 512;
const HASHED = "sha256:";

/**
 * The stored form of a key: as given up to 512 characters, else (or when it starts with `sha256:`)
 * `sha256:` and the SHA-256 of the whole key. Never cut: two keys that share a prefix (a long
 * issuer, a long `jti`) are two keys, and a cut could also split a character.
 */
function storedKey(key: string): string {
  if (key.length <= KEY_MAX && !key.startsWith(HASHED)) return key;
  return `${HASHED}${createHash("sha256").update(key, "utf8").digest("base64url")}`;
}

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
        INSERT INTO "KitReplay" ("key", "expiresAt") VALUES (${storedKey(key)}, ${expiresAt})
        ON CONFLICT ("key") DO NOTHING`;
      return inserted === 1;
    },
    async forget(key) {
      await db.$executeRaw`DELETE FROM "KitReplay" WHERE "key" = ${storedKey(key)}`;
    },
    async purge(now, limit) {
      // The batch in "expiresAt" order (its index): see sql-dialect.ts for the two forms.
      return (await isPostgres(db))
        ? db.$executeRaw`DELETE FROM "KitReplay" WHERE "key" = ANY(ARRAY(SELECT "key" FROM "KitReplay" WHERE "expiresAt" < ${now} ORDER BY "expiresAt" LIMIT ${limit}))`
        : db.$executeRaw`DELETE FROM "KitReplay" WHERE "key" IN (SELECT "key" FROM "KitReplay" WHERE "expiresAt" < ${now} ORDER BY "expiresAt" LIMIT ${limit})`;
    },
  };
}
