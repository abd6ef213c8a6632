// The package's promises about itself: the reference app uses exactly the schema the kit ships,
// and the exports map names only entries that exist.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, test } from "node:test";
import { migrationsFor } from "../../../scripts/db-migrate";

const ROOT = path.resolve(import.meta.dirname, "../../..");
const read = (file: string) => readFileSync(path.join(ROOT, file), "utf8");
const squash = (text: string) => text.replace(/[ \t]+/g, " ").trim();

describe("the kit's schema and migrations", () => {
  const fragment = read("lib/claims-kit/prisma/schema.prisma");
  const app = read("prisma/schema.prisma");

  test("every model of the kit's schema fragment is in the app's schema, verbatim", () => {
    const models = [...fragment.matchAll(/(?:\/\/\/[^\n]*\n)*model \w+ \{.*?\n\}\n/gs)].map((m) => m[0]);
    assert.deepEqual(models.map((m) => /model (\w+)/.exec(m)![1]), ["SessionData", "UserSession", "KitSetting", "KitReplay", "KitChange", "KitSecurityEvent"]);
    for (const model of models) assert.ok(app.includes(model), `prisma/schema.prisma differs from the kit's ${/model (\w+)/.exec(model)![1]}`);
  });

  test("every field the fragment adds to User and Account is in the app's models", () => {
    const fields = [...fragment.matchAll(/^\/\/ {3}(\w+ +\S+(?: +@\S+)?)$/gm)].map((m) => squash(m[1]!));
    assert.ok(fields.length >= 9, `found ${fields.length} fields`);
    const appLines = new Set(app.split("\n").map(squash));
    for (const field of fields) assert.ok(appLines.has(field), `prisma/schema.prisma lacks "${field}"`);
  });

  test("the app applies the kit's SQL files themselves, after its own, for both databases", () => {
    for (const dialect of ["sqlite", "postgresql"] as const) {
      const names = migrationsFor(dialect).map((m) => m.name);
      assert.deepEqual(names, ["app/0001_app", "app/0002_invoices", "claims-kit/0001_claims_kit", "claims-kit/0002_provider_sessions", "claims-kit/0003_change_feed", "claims-kit/0004_refresh_backoff", "claims-kit/0005_database_sessions", "claims-kit/0006_ssf_events", "claims-kit/0007_retention"]);
      for (const kit of migrationsFor(dialect).filter((m) => m.name.startsWith("claims-kit/"))) {
        assert.equal(kit.sql, read(`lib/claims-kit/prisma/migrations/${dialect}/${kit.name.slice("claims-kit/".length)}.sql`));
      }
    }
  });
});

describe("the package", () => {
  const pkg = JSON.parse(read("lib/claims-kit/package.json")) as { exports: Record<string, string | { types: string; import: string }>; files: string[] };

  test("each export maps to a source entry the build compiles, with its types", () => {
    const build = read("lib/claims-kit/build.mjs");
    for (const [subpath, target] of Object.entries(pkg.exports)) {
      if (typeof target === "string") continue;
      const entry = target.import.replace(/^\.\/dist\//, "").replace(/\.js$/, "");
      assert.equal(target.types, `./dist/${entry}.d.ts`, subpath);
      assert.ok(build.includes(`"${entry}": "${entry}.ts"`) || build.includes(`${entry}: "${entry}.ts"`), `build.mjs does not build ${entry} (${subpath})`);
      assert.ok(readFileSync(path.join(ROOT, "lib/claims-kit", `${entry}.ts`)), `${entry}.ts exists`);
    }
  });

  test("the client entry is a client boundary; the server entry is server-only", () => {
    assert.match(read("lib/claims-kit/next/client.ts"), /^"use client";/);
    // The directive before anything else; the server entry's first statement (after its package comment).
    assert.match(read("lib/claims-kit/next/server.ts"), /^(?:\/\*\*[\s\S]*?\*\/\n)?import "server-only";/);
  });
});
