import js from "@eslint/js";
import tseslint from "typescript-eslint";

// The package's layers (lib/claims-kit): what each folder may not import. The engine depends on
// nothing above it; refresh/ on no plugin; stores and the OIDC features on the engine only.
const KIT = "lib/claims-kit";
const layer = (folder, forbidden, why) => ({
  files: [`${KIT}/${folder}/**/*.ts`],
  rules: {
    "no-restricted-imports": ["error", { patterns: [{ regex: `(^|/)(${forbidden.join("|")})(/|$)`, message: `${KIT}/${folder} ${why}` }] }],
  },
});
/** The package's entry points: all the app may import. */
const ENTRIES = ["plugin", "oidc", "codec", "prisma", "redis", "access", "next/server", "next/client"];

export default tseslint.config(
  { ignores: ["node_modules/", ".next/", "prisma/generated/", "test-results/", "playwright-report/", "next-env.d.ts", "lib/claims-kit/dist/", ".pack/", "docs/api/", "examples/*/node_modules/", "examples/*/.next/", "examples/*/next-env.d.ts", "examples/*/prisma/generated/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", destructuredArrayIgnorePattern: "^_" }],
    },
  },
  {
    // Type-aware: the contract is that jwt() never throws or leaves a rejection behind, so no promise
    // is dropped on the floor (await it, return it, or `void` it where fire-and-forget is meant, with
    // a comment saying why), and none is passed where a callback's result is ignored.
    files: ["**/*.{ts,tsx}"],
    ignores: ["examples/**"],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // node:test's test() and describe() return promises the runner itself awaits.
      "@typescript-eslint/no-floating-promises": ["error", { allowForKnownSafeCalls: [{ from: "package", package: "node:test", name: ["test", "it", "describe", "suite"] }] }],
      "@typescript-eslint/no-misused-promises": "error",
    },
  },
  {
    files: ["lib/claims-kit/**/*.ts"],
    rules: { "@typescript-eslint/no-explicit-any": "error", "@typescript-eslint/ban-ts-comment": "error" },
  },
  layer("engine", ["next", "next-auth", "plugins", "stores", "refresh", "sessions", "cookie", "codec"], "is the engine: it imports nothing above it (move the shared type down)"),
  layer("refresh", ["next", "plugins", "stores", "sessions"], "imports no plugin, store or framework: oauthRefresh() builds on it, not the other way"),
  layer("stores", ["next", "plugins", "refresh", "sessions"], "implements the engine's ports and imports nothing else of the kit"),
  layer("sessions", ["next", "plugins", "stores", "refresh"], "(provider-driven sessions) builds on the engine only"),
  layer("cookie", ["next", "plugins", "stores", "refresh", "sessions"], "builds on the engine only"),
  layer("codec", ["next", "plugins", "stores", "refresh", "sessions"], "builds on the engine only"),
  layer("plugins", ["next", "stores"], "imports no framework and no store (stores are passed in as options)"),
  {
    // The reference app uses the package as any app would: through its entry points only.
    files: ["app/**/*.{ts,tsx}", "auth.ts", "auth.config.ts", "proxy.ts", "instrumentation.ts"],
    rules: {
      "no-restricted-imports": ["error", {
        patterns: [
          { regex: `^@/lib/claims-kit/(?!(${ENTRIES.join("|")})$)`, message: `import the package's entry points only: claims-kit, claims-kit/{${ENTRIES.join(",")}}` },
          { regex: "(^|/)\\.\\./.*lib/claims-kit", message: "import the package as @/lib/claims-kit (its entry points), not by a relative path" },
        ],
      }],
    },
  },
);
