/**
 * Prisma implementations of the toolkit's stores. They use the tables and columns in
 * lib/claims-kit/prisma/schema.prisma (see its README); one statement per operation.
 *
 * @packageDocumentation
 * @module claims-kit/prisma
 */
export { prismaServerDataStore, type SessionDataDelegate } from "./stores/prisma-server-data";
export { prismaSessionRegistry, type RawSqlClient } from "./stores/prisma-sessions";
export { prismaTokenVault } from "./stores/prisma-token-vault";
export { prismaReplayStore } from "./stores/prisma-replay";
export { prismaSecurityEventLog } from "./stores/prisma-events";
export { prismaChangeLog } from "./stores/prisma-changes";
export { postgresChangeFeed, type PostgresChangeFeedOptions } from "./stores/pg-change-feed";
