// examples/database pastes the package's Prisma models into its schema, as the package's
// schema.prisma tells an app to. A migration the package gains (a table, an index) must reach that
// copy too: otherwise the example's migrated database differs from its schema, which only the slow
// example run (examples/test.sh) would notice.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { test } from "node:test";

const MARKER = "// ---- claims-kit: the models of node_modules/claims-kit/prisma/schema.prisma, verbatim ----\n";
const FIRST_MODEL = "/// Server-side session data (prismaServerDataStore)";

test("examples/database carries the package's Prisma models verbatim", async () => {
  const example = await readFile("examples/database/prisma/schema.prisma", "utf8");
  const pkg = await readFile("lib/claims-kit/prisma/schema.prisma", "utf8");
  assert.ok(example.includes(MARKER), "the example's schema marks where the package's models begin");
  assert.ok(pkg.includes(FIRST_MODEL), "the package's schema starts its models where this test expects");
  assert.equal(example.slice(example.indexOf(MARKER) + MARKER.length), pkg.slice(pkg.indexOf(FIRST_MODEL)));
});
