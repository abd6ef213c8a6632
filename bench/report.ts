// Tables, the machine and versions, and the results files (bench/results/<date>.json and .md).
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

export const ROOT = path.resolve(import.meta.dirname, "..");

/** One printed table: a markdown table on the console and in the results file. */
export interface Table {
  title: string;
  columns: string[];
  /** Right-aligned columns (numbers), by index. */
  numeric?: number[];
  rows: Array<Array<string | number>>;
  notes?: string[];
}

/** `n` with `digits` decimals; a dash for a number that could not be measured. */
export function fmt(n: number, digits = 0): string {
  if (!Number.isFinite(n)) return "—";
  return n.toFixed(digits);
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function markdown(table: Table): string {
  const align = table.columns.map((_, i) => (table.numeric?.includes(i) ? "---:" : "---"));
  const lines = [
    `### ${table.title}`,
    "",
    `| ${table.columns.join(" | ")} |`,
    `| ${align.join(" | ")} |`,
    ...table.rows.map((row) => `| ${row.join(" | ")} |`),
  ];
  if (table.notes?.length) lines.push("", ...table.notes.map((n) => `${n}`));
  return lines.join("\n");
}

/** Plain-text rendering for the terminal: padded columns. */
export function printTable(table: Table): void {
  const cells = [table.columns, ...table.rows.map((r) => r.map(String))];
  const widths = table.columns.map((_, i) => Math.max(...cells.map((r) => String(r[i] ?? "").length)));
  const line = (row: Array<string | number>) =>
    row.map((cell, i) => (table.numeric?.includes(i) ? String(cell).padStart(widths[i]!) : String(cell).padEnd(widths[i]!))).join("  ");
  console.log(`\n${table.title}\n`);
  console.log(line(table.columns));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const row of table.rows) console.log(line(row));
  for (const note of table.notes ?? []) console.log(note);
}

function versionOf(pkg: string): string {
  try {
    return (JSON.parse(readFileSync(path.join(ROOT, "node_modules", pkg, "package.json"), "utf8")) as { version: string }).version;
  } catch {
    return "?";
  }
}

function git(...args: string[]): string {
  try {
    return execFileSync("git", args, { cwd: ROOT, encoding: "utf8" }).trim();
  } catch {
    return "?";
  }
}

/** Where the numbers came from: enough to tell two runs apart. */
export function environment() {
  const cpus = os.cpus();
  return {
    date: new Date().toISOString(),
    machine: {
      cpu: cpus[0]?.model ?? "?",
      cores: cpus.length,
      memoryGiB: Math.round(os.totalmem() / 2 ** 30),
      os: `${os.type()} ${os.release()} ${os.arch()}`,
    },
    versions: {
      node: process.version,
      next: versionOf("next"),
      "next-auth": versionOf("next-auth"),
      "@auth/core": versionOf("@auth/core"),
      jose: versionOf("jose"),
      react: versionOf("react"),
      "@prisma/client": versionOf("@prisma/client"),
    },
    commit: `${git("rev-parse", "--short", "HEAD")}${git("status", "--porcelain", "--untracked-files=no") ? " (with uncommitted changes)" : ""}`,
  };
}

/** Write bench/results/<date>[-name].json and .md; returns the markdown file's path. */
export function writeResults(tables: Table[], settings: Record<string, unknown>, extra: Record<string, unknown>, name?: string): string {
  const env = environment();
  const dir = path.join(ROOT, "bench", "results");
  mkdirSync(dir, { recursive: true });
  const stem = path.join(dir, `${env.date.slice(0, 10)}${name ? `-${name}` : ""}`);
  writeFileSync(`${stem}.json`, `${JSON.stringify({ ...env, settings, tables, ...extra }, null, 2)}\n`);
  const header = [
    `# npm run bench${name ? ` (${name})` : ""}, ${env.date.slice(0, 16).replace("T", " ")} UTC`,
    "",
    `Machine: ${env.machine.cpu}, ${env.machine.cores} cores, ${env.machine.memoryGiB} GiB, ${env.machine.os}.`,
    `Versions: ${Object.entries(env.versions).map(([k, v]) => `${k} ${v}`).join(", ")}. Commit ${env.commit}.`,
    `Settings: ${Object.entries(settings).map(([k, v]) => `${k}=${String(v)}`).join(", ")}.`,
  ];
  writeFileSync(`${stem}.md`, `${[...header, ...tables.map((t) => `\n${markdown(t)}`)].join("\n")}\n`);
  return `${stem}.md`;
}
