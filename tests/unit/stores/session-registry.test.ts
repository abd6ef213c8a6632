// The SessionRegistry conformance suite (tests/conformance/session-registry.ts) against the memory
// registry and cachedSessionRegistry over it. The Prisma registry runs it in
// tests/integration/session-registry.test.ts, on SQLite and PostgreSQL.
import { cachedSessionRegistry, inProcessChangeFeed, memorySessionRegistry } from "@/lib/claims-kit/plugin";
import { sessionRegistryConformance } from "../../conformance/session-registry";
import { memoryChangeLog } from "../fixtures";

let users = 0;
const newUser = async () => `user-${++users}`;

sessionRegistryConformance("memorySessionRegistry()", async () => ({ registry: memorySessionRegistry(), newUser }));

sessionRegistryConformance("cachedSessionRegistry(memorySessionRegistry())", async () => {
  const registry = cachedSessionRegistry(memorySessionRegistry(), { changes: memoryChangeLog(), feed: inProcessChangeFeed() });
  return { registry, newUser, close: () => registry.close() };
});
