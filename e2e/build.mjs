// Bundles src/page.js (with the SDK) into dist/ beside a copy of src/index.html.
import { copyFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, "dist");
mkdirSync(dist, { recursive: true });
await build({
  entryPoints: [join(here, "src", "page.js")],
  outfile: join(dist, "page.js"),
  bundle: true,
  format: "iife",
  target: "es2020",
  minify: true,
  keepNames: true,
  logLevel: "warning",
});
copyFileSync(join(here, "src", "index.html"), join(dist, "index.html"));
