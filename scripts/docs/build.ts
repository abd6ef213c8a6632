// `npm run docs`: regenerate docs/errors.md from the kit's code tables, then the API reference from
// the doc comments of the package's entry points (TypeDoc, typedoc.json) into docs/api/, which is
// not committed (git-ignored): open docs/api/index.html. The checked-in API reports in
// lib/claims-kit/api/*.api.md are the exact public surface, readable without building anything.
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { renderErrorsPage } from "./errors";
import { ROOT } from "./snippets";

const errorsPage = path.join(ROOT, "docs", "errors.md");
writeFileSync(errorsPage, renderErrorsPage());
process.stdout.write(`docs: wrote ${path.relative(ROOT, errorsPage)}\n`);
if (!process.argv.includes("--errors-only")) {
  execFileSync(path.join(ROOT, "node_modules", ".bin", "typedoc"), ["--options", path.join(ROOT, "typedoc.json")], { cwd: ROOT, stdio: "inherit" });
  process.stdout.write("docs: API reference in docs/api/ (open docs/api/index.html)\n");
}
