// Security review (attack): sameOriginPath() (exported from claims-kit/next/server, used by the
// step-up route for return_to) promises "never //host or /\\host", but it checks the raw input and
// returns the URL parser's *normalized* path: dot segments collapse into a protocol-relative URL.
import assert from "node:assert/strict";
import { test } from "node:test";
import { sameOriginPath } from "@/lib/claims-kit/next/internal/step-up";

test("attack: a return_to with dot segments never comes back as a protocol-relative //host", () => {
  for (const input of ["/.//evil.example/x", "/..//evil.example", "/%2e//evil.example", "/a/..//evil.example", "/./\\evil.example"]) {
    const out = sameOriginPath(input);
    assert.ok(out === null || (!out.startsWith("//") && !out.startsWith("/\\")), `${input} -> ${out}: redirect(${out}) goes to evil.example`);
  }
});
