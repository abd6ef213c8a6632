// Build the package: ESM bundles per entry (shared code split into chunks) and one bundled .d.ts per
// entry (API Extractor's rollup), so the kit's internals never ship as declarations. Each entry's
// public surface is checked against its API report in api/ (checked in): a change to it fails the
// build until `npm run kit:api` (this script with --update-api) updates the report for review.
// The client entry is built on its own (no shared chunks), so its "use client" boundary holds.
import { execFileSync } from "node:child_process";
import process from "node:process";
import { mkdirSync, rmSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { Extractor, ExtractorConfig } from "@microsoft/api-extractor";

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = path.join(here, "dist");
const updateApi = process.argv.includes("--update-api");
rmSync(dist, { recursive: true, force: true });

/** Every entry: its name in `exports` (and in dist/), and its source. */
const ENTRIES = { index: "index.ts", plugin: "plugin.ts", oidc: "oidc.ts", access: "access.ts", prisma: "prisma.ts", redis: "redis.ts", codec: "codec.ts", "next/server": "next/server.ts", "next/client": "next/client.ts" };

// Everything the host app provides (peer dependencies) stays an import.
// node:* builtins too: the codec entry runs on Node (route handlers, server components, the proxy).
const external = ["node:*", "next", "next/*", "next-auth", "next-auth/*", "@auth/core", "@auth/core/*", "oauth4webapi", "jose", "pg", "ioredis", "react", "react-dom", "react/*", "server-only"];
const common = { bundle: true, format: "esm", platform: "neutral", target: "es2022", external, absWorkingDir: here, outdir: dist, logLevel: "warning" };

const { "next/client": clientEntry, ...shared } = ENTRIES;
await build({ ...common, entryPoints: shared, splitting: true, chunkNames: "chunks/[name]-[hash]" });
// esbuild keeps the entry's own "use client" directive as the first line of its output.
await build({ ...common, entryPoints: { "next/client": clientEntry } });

// Declarations: tsc into dist/types, then one rollup per entry; the per-file ones are dropped.
const tsc = path.join(here, "..", "..", "node_modules", ".bin", "tsc");
execFileSync(tsc, ["-p", path.join(here, "tsconfig.build.json"), "--outDir", path.join(dist, "types")], { stdio: "inherit" });
mkdirSync(path.join(here, "api"), { recursive: true });
const changed = [];
for (const name of Object.keys(ENTRIES)) {
  const reportName = `${name.replace("/", "-")}.api.md`;
  const config = ExtractorConfig.prepare({
    configObjectFullPath: path.join(here, "api-extractor.json"),
    packageJsonFullPath: path.join(here, "package.json"),
    configObject: {
      projectFolder: here,
      mainEntryPointFilePath: path.join(dist, "types", `${name}.d.ts`),
      compiler: { tsconfigFilePath: path.join(here, "tsconfig.build.json") },
      apiReport: { enabled: true, reportFolder: path.join(here, "api"), reportTempFolder: path.join(dist, "api-temp"), reportFileName: reportName },
      docModel: { enabled: false },
      dtsRollup: { enabled: true, untrimmedFilePath: path.join(dist, `${name}.d.ts`) },
      tsdocMetadata: { enabled: false },
      messages: {
        // Types an entry uses but another entry exports (the tiers share them) are expected.
        extractorMessageReporting: { default: { logLevel: "none", addToApiReportFile: false } },
        tsdocMessageReporting: { default: { logLevel: "none", addToApiReportFile: false } },
        compilerMessageReporting: { default: { logLevel: "warning" } },
      },
    },
  });
  const result = Extractor.invoke(config, { localBuild: updateApi, showVerboseMessages: false, messageCallback: (m) => void (m.handled = m.logLevel === "none") });
  if (result.apiReportChanged) changed.push(`api/${reportName}`);
  if (!result.succeeded && !result.apiReportChanged) throw new Error(`claims-kit: declarations of ${name} failed (${result.errorCount} errors)`);
}
rmSync(path.join(dist, "types"), { recursive: true, force: true });
rmSync(path.join(dist, "api-temp"), { recursive: true, force: true });
if (changed.length > 0 && !updateApi) {
  process.stderr.write(`claims-kit: the public API changed (${changed.join(", ")}): run \`npm run kit:api\`, review the report and commit it\n`);
  process.exit(1);
}
process.stderr.write(`claims-kit: built dist/ (ESM + one .d.ts per entry)${changed.length > 0 ? `; API reports updated: ${changed.join(", ")}` : ""}\n`);
