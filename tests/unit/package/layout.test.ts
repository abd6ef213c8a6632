// The package's structure: no import cycles, in the package or in the app around it. A cycle means a
// lower layer imports a higher one (the fix is to move the shared type down); ESLint's
// no-restricted-imports (eslint.config.mjs) holds each folder to its layer, this holds the graph
// as a whole. Type-only imports count: they are how layers leak.
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";

const ROOT = path.resolve(import.meta.dirname, "..", "..", "..");
const SCANNED = ["lib/claims-kit", "app", "auth.ts", "auth.config.ts", "proxy.ts", "instrumentation.ts"];
const SKIP = new Set(["node_modules", "dist", ".next"]);

function sources(entry: string): string[] {
  const full = path.join(ROOT, entry);
  if (!existsSync(full)) return [];
  if (statSync(full).isFile()) return /\.tsx?$/.test(entry) ? [entry] : [];
  return readdirSync(full).filter((name) => !SKIP.has(name)).flatMap((name) => sources(path.join(entry, name)));
}

/** Every relative or `@/` import and re-export of a file, resolved to a scanned file. */
function importsOf(file: string, known: ReadonlySet<string>): string[] {
  const text = readFileSync(path.join(ROOT, file), "utf8");
  const out = new Set<string>();
  for (const m of text.matchAll(/(?:import|export)\s[^'"`;]*?from\s*["']([^"']+)["']|import\s*\(\s*["']([^"']+)["']\s*\)/g)) {
    const spec = m[1] ?? m[2]!;
    const base = spec.startsWith("@/") ? spec.slice(2) : spec.startsWith(".") ? path.join(path.dirname(file), spec) : null;
    if (base === null) continue;
    const target = ["", ".ts", ".tsx", "/index.ts"].map((ext) => path.normalize(base + ext)).find((candidate) => known.has(candidate));
    if (target && target !== file) out.add(target);
  }
  return [...out];
}

/** Strongly connected components of more than one file (Tarjan). */
function cycles(graph: ReadonlyMap<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const group: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      group.push(w);
    } while (w !== v);
    if (group.length > 1) found.push(group.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

test("no import cycles in the package or the app", () => {
  const files = SCANNED.flatMap(sources);
  const known = new Set(files);
  assert.ok(files.length > 80, `scanned ${files.length} files`);
  const graph = new Map(files.map((f) => [f, importsOf(f, known)]));
  assert.deepEqual(cycles(graph), []);
});

test("the cycle finder finds a cycle (it can fail)", () => {
  const graph = new Map([["a.ts", ["b.ts"]], ["b.ts", ["c.ts"]], ["c.ts", ["a.ts"]], ["d.ts", ["a.ts"]]]);
  assert.deepEqual(cycles(graph), [["a.ts", "b.ts", "c.ts"]]);
});
