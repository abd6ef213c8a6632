// The docs' code snippets, type-checked as an app would compile them. Every ```ts / ```tsx block of
// the Markdown pages (README.md, docs/, the package's README, the examples' READMEs) becomes a
// virtual file of one TypeScript program, with `claims-kit` and `claims-kit/*` mapped to the
// package's entry points (lib/claims-kit), and the rest (next, next-auth, zod, react) resolved from
// node_modules. Nothing is written to disk. The convention, also in docs/README.md:
//
//   ```ts                a module, compiled as it stands (its imports are visible to the reader)
//   ```ts file=auth.ts   the same, and it is that file of the page's app: `@/auth` and `./auth` in
//                        the page's other snippets import it (`fragment file=...` works too). The
//                        root README's quick start (file=auth.ts) is every page's app until a
//                        page writes its own.
//   ```ts fragment       compiled after a prelude: every public name of every entry, `z` (zod),
//                        `NextAuth` and `NextAuthConfig` (next-auth), and `prisma` (the app's
//                        generated client, declared). What the fragment imports or declares wins.
//   ```ts nocheck        not compiled: only for the hand-written Auth.js recipes the kit replaces.
//
// Other fences (sh, text, prisma...) are not code to compile. Run on its own:
//   node_modules/.bin/tsx scripts/docs/snippets.ts      (prints each failing snippet's file:line)
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import ts from "typescript";

export const ROOT = path.resolve(import.meta.dirname, "..", "..");
/** Where the snippets live, virtually: inside the repository, so node_modules resolves. */
const VIRTUAL = path.join(ROOT, ".docs-snippets");

/** The package's entry points, as an app imports them. */
export const ENTRIES: Readonly<Record<string, string>> = {
  "claims-kit": "lib/claims-kit/index.ts",
  "claims-kit/plugin": "lib/claims-kit/plugin.ts",
  "claims-kit/oidc": "lib/claims-kit/oidc.ts",
  "claims-kit/access": "lib/claims-kit/access.ts",
  "claims-kit/prisma": "lib/claims-kit/prisma.ts",
  "claims-kit/redis": "lib/claims-kit/redis.ts",
  "claims-kit/codec": "lib/claims-kit/codec.ts",
  "claims-kit/next/server": "lib/claims-kit/next/server.ts",
  "claims-kit/next/client": "lib/claims-kit/next/client.ts",
};

/** The Markdown files whose snippets are checked (relative to the repository root). */
export function docFiles(root = ROOT): string[] {
  const files = ["README.md", "lib/claims-kit/README.md"];
  const walk = (dir: string): string[] =>
    readdirSync(path.join(root, dir)).flatMap((name) => {
      const rel = path.join(dir, name);
      if (statSync(path.join(root, rel)).isDirectory()) return name === "api" || name === "node_modules" ? [] : walk(rel);
      return name.endsWith(".md") ? [rel] : [];
    });
  files.push(...walk("docs"));
  for (const example of readdirSync(path.join(root, "examples"))) {
    const readme = path.join("examples", example, "README.md");
    try {
      if (statSync(path.join(root, readme)).isFile()) files.push(readme);
    } catch {
      // an example without a README
    }
  }
  return files;
}

export type SnippetMode = "module" | "fragment" | "nocheck";

/** One fenced block of TypeScript in a Markdown file. */
export interface Snippet {
  /** The Markdown file, relative to the root. */
  doc: string;
  /** Line of the snippet's first code line in the Markdown file (1-based). */
  line: number;
  lang: "ts" | "tsx";
  mode: SnippetMode;
  /** `file=NAME`: the page's app file this snippet is. */
  file?: string;
  code: string;
}

const FENCE = /^(\s*)(`{3,}|~{3,})\s*([\w-]*)(.*)$/;

/**
 * Every fenced block of a Markdown text whose language is ts/tsx/typescript. Throws on a flag it
 * does not know (a typo must not silently skip a check).
 */
export function extractSnippets(markdown: string, doc: string): Snippet[] {
  const lines = markdown.split("\n");
  const out: Snippet[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i]!);
    if (!open) continue;
    const [, indent, marker, lang, rest] = open as unknown as [string, string, string, string, string];
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const close = /^(\s*)(`{3,}|~{3,})\s*$/.exec(lines[j]!);
      if (close && close[2]!.startsWith(marker[0]!) && close[2]!.length >= marker.length) break;
      body.push(lines[j]!.startsWith(indent) ? lines[j]!.slice(indent.length) : lines[j]!.trimStart());
    }
    const start = i + 2;
    i = j;
    const language = lang.toLowerCase();
    if (!["ts", "tsx", "typescript"].includes(language)) continue;
    let mode: SnippetMode = "module";
    let file: string | undefined;
    for (const flag of rest.trim().split(/\s+/).filter(Boolean)) {
      if (flag === "fragment" || flag === "nocheck") mode = flag;
      else if (flag.startsWith("file=")) file = flag.slice(5);
      else throw new Error(`${doc}:${start - 1}: unknown snippet flag "${flag}" (known: fragment, nocheck, file=NAME)`);
    }
    if (file && mode === "nocheck") throw new Error(`${doc}:${start - 1}: file=${file} is never compiled (nocheck)`);
    out.push({ doc, line: start, lang: language === "tsx" ? "tsx" : "ts", mode, file, code: body.join("\n") });
  }
  return out;
}

/** Names an entry exports, read from its source (export lists and exported declarations). */
function exportedNames(entryFile: string): string[] {
  const source = ts.createSourceFile(entryFile, readFileSync(entryFile, "utf8"), ts.ScriptTarget.Latest, false);
  const names: string[] = [];
  for (const statement of source.statements) {
    if (ts.isExportDeclaration(statement) && statement.exportClause && ts.isNamedExports(statement.exportClause)) {
      names.push(...statement.exportClause.elements.map((e) => e.name.text));
    } else if (ts.canHaveModifiers(statement) && ts.getModifiers(statement)?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword)) {
      if (ts.isVariableStatement(statement)) {
        for (const d of statement.declarationList.declarations) if (ts.isIdentifier(d.name)) names.push(d.name.text);
      } else if ((ts.isFunctionDeclaration(statement) || ts.isInterfaceDeclaration(statement) || ts.isTypeAliasDeclaration(statement) || ts.isClassDeclaration(statement)) && statement.name) {
        names.push(statement.name.text);
      }
    }
  }
  return names;
}

/** Names a snippet declares or imports at its top level (they win over the prelude's). */
function ownNames(code: string, lang: "ts" | "tsx"): Set<string> {
  const source = ts.createSourceFile(`own.${lang}`, code, ts.ScriptTarget.Latest, false, lang === "tsx" ? ts.ScriptKind.TSX : ts.ScriptKind.TS);
  const names = new Set<string>();
  const bind = (name: ts.BindingName | undefined) => {
    if (!name) return;
    if (ts.isIdentifier(name)) names.add(name.text);
    else for (const element of name.elements) if (!ts.isOmittedExpression(element)) bind(element.name);
  };
  for (const statement of source.statements) {
    if (ts.isImportDeclaration(statement) && statement.importClause) {
      const clause = statement.importClause;
      if (clause.name) names.add(clause.name.text);
      const bindings = clause.namedBindings;
      if (bindings && ts.isNamespaceImport(bindings)) names.add(bindings.name.text);
      if (bindings && ts.isNamedImports(bindings)) for (const e of bindings.elements) names.add(e.name.text);
    } else if (ts.isVariableStatement(statement)) {
      for (const d of statement.declarationList.declarations) bind(d.name);
    } else if ((ts.isFunctionDeclaration(statement) || ts.isInterfaceDeclaration(statement) || ts.isTypeAliasDeclaration(statement) || ts.isClassDeclaration(statement) || ts.isEnumDeclaration(statement)) && statement.name) {
      names.add(statement.name.text);
    }
  }
  return names;
}

/** The prelude of a fragment, on ONE line (so a fragment's line numbers are off by exactly one). */
function preludeFor(code: string, lang: "ts" | "tsx", exportsByEntry: ReadonlyMap<string, string[]>): string {
  const own = ownNames(code, lang);
  const parts: string[] = [];
  const imp = (names: string[], from: string) => {
    const kept = names.filter((n) => !own.has(n));
    if (kept.length > 0) parts.push(`import { ${kept.join(", ")} } from ${JSON.stringify(from)};`);
  };
  for (const [entry, names] of exportsByEntry) imp(names, entry);
  imp(["z"], "zod");
  if (!own.has("NextAuth")) parts.push(`import NextAuth from "next-auth";`);
  imp(["NextAuthConfig"], "next-auth");
  if (!own.has("prisma")) {
    parts.push(`import type { PrismaClient as __PrismaClient } from ${JSON.stringify(path.join(ROOT, "prisma/generated/prisma/client"))};`);
    parts.push("declare const prisma: __PrismaClient;");
  }
  // Keeps the fragment a module (its own scope), and keeps unused prelude names quiet.
  parts.push("export {};");
  return parts.join(" ");
}

/** A snippet that did not compile, located in its Markdown file. */
export interface SnippetError {
  doc: string;
  line: number;
  message: string;
}

export interface CheckResult {
  snippets: Snippet[];
  errors: SnippetError[];
  /** Snippets compiled / skipped (nocheck). */
  checked: number;
  skipped: number;
  ms: number;
}

const slug = (doc: string) => doc.replace(/\.md$/, "").replace(/[^\w]+/g, "_");

/**
 * Type-check snippets: one program for all of them. `docs` maps each Markdown file to its text (by
 * default every file of {@link docFiles}, read from disk); the quick start's `file=` snippets come
 * from README.md.
 */
export function checkSnippets(docs?: ReadonlyMap<string, string>): CheckResult {
  const started = performance.now();
  const texts = docs ?? new Map(docFiles().map((doc) => [doc, readFileSync(path.join(ROOT, doc), "utf8")] as const));
  const snippets = [...texts].flatMap(([doc, text]) => extractSnippets(text, doc));
  const exportsByEntry = new Map(Object.entries(ENTRIES).map(([entry, file]) => [entry, exportedNames(path.join(ROOT, file))] as const));

  // The virtual files, and where each maps back to.
  const files = new Map<string, { text: string; snippet: Snippet; offset: number; report: boolean }>();
  const pageFiles = new Map<string, Map<string, Snippet>>();
  for (const s of snippets) {
    if (!s.file) continue;
    const own = pageFiles.get(s.doc) ?? new Map<string, Snippet>();
    if (own.has(s.file)) throw new Error(`${s.doc}:${s.line - 1}: file=${s.file} is written twice on this page`);
    own.set(s.file, s);
    pageFiles.set(s.doc, own);
  }
  const quickStart = pageFiles.get("README.md") ?? new Map<string, Snippet>();
  const pageDir = (doc: string) => path.join(VIRTUAL, slug(doc));
  const withPaths = (text: string, doc: string) =>
    // `@/x` is the page's app (as in a Next.js app whose tsconfig maps "@/*" to its root).
    text.replace(/(from\s+|import\s*\(\s*)(["'])@\/([^"']+)\2/g, (_m, lead: string, q: string, rest: string) => `${lead}${q}${path.join(pageDir(doc), rest)}${q}`);
  const virtual = (s: Snippet, doc: string) => {
    const prelude = s.mode === "fragment" ? preludeFor(s.code, s.lang, exportsByEntry) + "\n" : "";
    return { text: prelude + withPaths(s.code, doc), snippet: s, offset: prelude ? 1 : 0 };
  };
  for (const doc of texts.keys()) {
    // Every page's app starts as the quick start; its own files replace it file by file.
    const own = pageFiles.get(doc) ?? new Map<string, Snippet>();
    for (const [name, s] of quickStart) {
      if (own.has(name) && doc !== "README.md") continue;
      files.set(path.join(pageDir(doc), name), { ...virtual(s, doc), report: doc === "README.md" });
    }
  }
  let checked = 0;
  let skipped = 0;
  for (const s of snippets) {
    if (s.mode === "nocheck") {
      skipped++;
      continue;
    }
    checked++;
    if (s.file && s.doc === "README.md") continue; // written above, as every page's quick start
    files.set(path.join(pageDir(s.doc), s.file ?? `snippet-L${s.line}.${s.lang}`), { ...virtual(s, s.doc), report: true });
  }

  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    lib: ["lib.dom.d.ts", "lib.dom.iterable.d.ts", "lib.es2023.d.ts"],
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    strict: true,
    noUncheckedIndexedAccess: true,
    skipLibCheck: true,
    esModuleInterop: true,
    isolatedModules: true,
    allowImportingTsExtensions: true,
    resolveJsonModule: true,
    jsx: ts.JsxEmit.ReactJSX,
    noEmit: true,
    types: ["node"],
    paths: Object.fromEntries(Object.entries(ENTRIES).map(([entry, file]) => [entry, [path.join(ROOT, file)]])),
  };
  const host = ts.createCompilerHost(options, true);
  const { fileExists, readFile, getSourceFile } = host;
  const directoryExists = host.directoryExists?.bind(host);
  host.fileExists = (f) => files.has(f) || fileExists.call(host, f);
  // The virtual folders exist too (module resolution looks for a folder before its files).
  host.directoryExists = (d) => d === VIRTUAL || d.startsWith(VIRTUAL + path.sep) || (directoryExists?.(d) ?? true);
  host.readFile = (f) => files.get(f)?.text ?? readFile.call(host, f);
  host.getSourceFile = (f, languageVersion, onError, shouldCreate) => {
    const virtual = files.get(f);
    return virtual ? ts.createSourceFile(f, virtual.text, languageVersion, true) : getSourceFile.call(host, f, languageVersion, onError, shouldCreate);
  };
  const program = ts.createProgram([...files.keys()], options, host);
  const errors: SnippetError[] = [];
  for (const [name, virtual] of files) {
    if (!virtual.report) continue;
    const source = program.getSourceFile(name);
    if (!source) continue;
    for (const d of [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)]) {
      const at = d.start === undefined ? 0 : source.getLineAndCharacterOfPosition(d.start).line;
      const message = ts.flattenDiagnosticMessageText(d.messageText, "\n");
      const inPrelude = at < virtual.offset;
      errors.push({
        doc: virtual.snippet.doc,
        line: virtual.snippet.line + Math.max(0, at - virtual.offset),
        message: inPrelude ? `(in the fragment's prelude) ${message}` : message,
      });
    }
  }
  errors.sort((a, b) => a.doc.localeCompare(b.doc) || a.line - b.line);
  return { snippets, errors, checked, skipped, ms: Math.round(performance.now() - started) };
}

/** One line per error: `file:line: message`, the first line of the message only. */
export function formatErrors(errors: readonly SnippetError[]): string {
  return errors.map((e) => `${e.doc}:${e.line}: ${e.message.split("\n")[0]}`).join("\n");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = checkSnippets();
  if (result.errors.length > 0) process.stderr.write(`${formatErrors(result.errors)}\n`);
  process.stdout.write(`docs snippets: ${result.checked} checked, ${result.skipped} not checked (nocheck), ${result.errors.length} errors, ${result.ms} ms\n`);
  process.exit(result.errors.length > 0 ? 1 : 0);
}
