#!/usr/bin/env node
// Runs the TypeScript CLI from a clone without a build step. The first start after a change bundles
// harness/ with esbuild into node_modules/.cache/pgchaos, named by a hash of the sources; later
// starts load that file. Going through tsx on every start cost ~1 s of CPU (its loader thread and
// esbuild service) on a machine the harness shares with the cluster it measures. Anything that keeps
// the bundle from being built falls back to tsx; PGCHAOS_TSX=1 asks for tsx.
import { createHash } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { basename, join, relative, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const HARNESS = join(ROOT, "harness");
const CACHE = join(ROOT, "node_modules", ".cache", "pgchaos");

/** This file, esbuild's version and every source the CLI may import: any change makes a new bundle. */
function sourceHash() {
  const hash = createHash("sha256");
  hash.update(readFileSync(fileURLToPath(import.meta.url)));
  hash.update(readFileSync(join(ROOT, "node_modules", "esbuild", "package.json")));
  const files = readdirSync(HARNESS, { recursive: true })
    .filter((file) => file.endsWith(".ts") && !file.endsWith(".test.ts"))
    .sort();
  for (const file of files) hash.update(`\0${file}\0`).update(readFileSync(join(HARNESS, file)));
  return hash.digest("hex").slice(0, 16);
}

async function buildBundle(file) {
  const { build } = await import("esbuild");
  const result = await build({
    entryPoints: [join(HARNESS, "cli.ts")],
    outfile: file,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    // Dependencies stay in node_modules (native addons, their own files); only harness/ is bundled.
    packages: "external",
    sourcemap: "linked",
    write: false,
    logLevel: "silent",
    // Each module keeps its own import.meta.url: the harness finds fixtures, node_modules and the
    // agent's entry point relative to its source files, not to the bundle.
    define: { "import.meta.url": "__pgchaosSourceUrl" },
    // Source URLs are relative to where the bundle is loaded from, never this build's absolute
    // paths: another user sees the checkout at another path (under /root it is not readable at all).
    banner: { js: 'const __pgchaosRoot = new URL("../../../", import.meta.url);' },
    plugins: [
      {
        name: "source-url",
        setup(builder) {
          builder.onLoad({ filter: /\.ts$/ }, ({ path }) => {
            const fromRoot = relative(ROOT, path).split(sep).join("/");
            const url = `const __pgchaosSourceUrl = new URL(${JSON.stringify(fromRoot)}, __pgchaosRoot).href;`;
            // On the first line (in place of a hashbang), so the source map's line numbers stay right.
            const source = readFileSync(path, "utf8").replace(/^#!.*/, "");
            return { loader: "ts", contents: `${url}${source}` };
          });
        },
      },
    ],
  });
  mkdirSync(CACHE, { recursive: true });
  // Bundles of older sources go, once no start that just chose one can still be loading it.
  for (const old of readdirSync(CACHE)) {
    const path = join(CACHE, old);
    const age = Date.now() - (statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
    if (!old.startsWith(basename(file)) && age > 600_000) rmSync(path, { force: true });
  }
  // The map first, the bundle last and renamed into place: a concurrent start sees all or nothing.
  const mapFirst = (output) => (output.path.endsWith(".map") ? 0 : 1);
  for (const output of [...result.outputFiles].sort((a, b) => mapFirst(a) - mapFirst(b))) {
    const partial = `${output.path}.${process.pid}`;
    writeFileSync(partial, output.contents);
    renameSync(partial, output.path);
  }
}

async function bundled() {
  if (process.env.PGCHAOS_TSX) return null;
  try {
    const file = join(CACHE, `cli-${sourceHash()}.mjs`);
    if (!existsSync(file)) await buildBundle(file);
    return file;
  } catch (error) {
    process.stderr.write(
      `pgchaos: running through tsx (no bundle: ${error?.errors?.[0]?.text ?? error?.message})\n`,
    );
    return null;
  }
}

const file = await bundled();
if (file) {
  process.setSourceMapsEnabled(true);
  await import(pathToFileURL(file).href);
} else {
  const { register } = await import("tsx/esm/api");
  register();
  await import("../harness/cli.ts");
}
