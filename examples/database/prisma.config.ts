// The Prisma CLI (generate, migrate diff) with Prisma 6.19's JS engine and the better-sqlite3
// driver adapter: it runs offline, on the bundled WASM schema engine.
import path from "node:path";
import { defineConfig } from "prisma/config";
import { PrismaBetterSQLite3 } from "@prisma/adapter-better-sqlite3";

export default defineConfig({
  experimental: { adapter: true },
  engine: "js",
  schema: path.join("prisma", "schema.prisma"),
  async adapter() {
    return new PrismaBetterSQLite3({ url: process.env.DATABASE_URL ?? "file:./.data/app.db" });
  },
});
