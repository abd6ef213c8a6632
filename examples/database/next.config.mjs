import path from "node:path";
import { fileURLToPath } from "node:url";

// This folder, not the repository root: the root has its own lockfile, and Turbopack would
// otherwise take it as the workspace root and resolve packages from the root's node_modules.
const here = path.dirname(fileURLToPath(import.meta.url));

/** @type {import('next').NextConfig} */
const nextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  turbopack: { root: here },
  outputFileTracingRoot: here,
};

export default nextConfig;
