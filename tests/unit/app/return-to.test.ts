import assert from "node:assert/strict";
import { test } from "node:test";
import { safeReturnTo } from "@/app/_lib/return-to";

test("only a path on this site is a place to return to after sign-in", () => {
  assert.equal(safeReturnTo("/invoices"), "/invoices");
  assert.equal(safeReturnTo("/admin?tab=members"), "/admin?tab=members");
  for (const bad of ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)", "invoices", "", null, 42, `/${"a".repeat(600)}`]) {
    assert.equal(safeReturnTo(bad), null, String(bad));
  }
});

test("dot segments never turn a return path into a protocol-relative //host (review)", () => {
  for (const input of ["/.//evil.example/x", "/..//evil.example", "/a/..//evil.example"]) assert.equal(safeReturnTo(input), null, input);
  assert.equal(safeReturnTo("/a/../invoices?x=1"), "/invoices?x=1");
});
