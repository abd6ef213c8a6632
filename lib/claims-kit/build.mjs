// Build the package: ESM bundles per entry (shared code split into chunks) and .d.ts files.
// The client entry is built on its own (no shared chunks), so its "use client" boundary holds.
import { execFileSync } from "node:child_process";
import process from "node:process";
import { rmSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = path.join(here, "dist");
rmSync(dist, { recursive: true, force: true });

// Everything the host app provides (peer dependencies) stays an import.
// node:* builtins too: the codec entry runs on Node (route handlers, server components, the proxy).
const external = ["node:*", "next", "next/*", "next-auth", "next-auth/*", "@auth/core", "@auth/core/*", "oauth4webapi", "jose", "pg", "react", "react-dom", "react/*", "server-only"];
const common = { bundle: true, format: "esm", platform: "neutral", target: "es2022", external, absWorkingDir: here, outdir: dist, logLevel: "warning" };

await build({
  ...common,
  entryPoints: { index: "index.ts", plugin: "plugin.ts", oidc: "oidc.ts", access: "access.ts", prisma: "prisma.ts", "next/server": "next/server.ts", codec: "codec.ts" },
  splitting: true,
  chunkNames: "chunks/[name]-[hash]",
});
// esbuild keeps the entry's own "use client" directive as the first line of its output.
await build({ ...common, entryPoints: { "next/client": "next/client.ts" } });

const tsc = path.join(here, "..", "..", "node_modules", ".bin", "tsc");
execFileSync(tsc, ["-p", path.join(here, "tsconfig.build.json")], { stdio: "inherit" });
process.stderr.write("claims-kit: built dist/ (ESM + .d.ts)\n");
