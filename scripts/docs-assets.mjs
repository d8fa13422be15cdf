#!/usr/bin/env node
// Puts the Scalar API reference bundle (@scalar/api-reference's standalone build) where the worker's
// static assets serve it: public/docs/scalar.js and scalar.css → GET /docs/scalar.js and /docs/scalar.css. /docs loads it from there, so the
// reference works offline and under a CSP that allows only 'self'. Runs after `npm install`/`npm ci`
// (postinstall) and before every wrangler build (wrangler.toml [build]); git ignores the copy.
import { copyFileSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'node_modules', '@scalar', 'api-reference', 'dist');
const copies = [
  [join(dist, 'browser', 'standalone.js'), join(root, 'public', 'docs', 'scalar.js')],
  // The bundle injects its styles as <style> elements, which a CSP without 'unsafe-inline' refuses: the
  // same styles as a stylesheet from 'self'.
  [join(dist, 'style.css'), join(root, 'public', 'docs', 'scalar.css')],
];

for (const [source, target] of copies) {
  if (!existsSync(source)) {
    // An install without devDependencies: the reference page then lacks its viewer, nothing else does.
    console.warn(`docs-assets: ${source} is missing (install devDependencies); /docs will not render.`);
    continue;
  }
  const same = existsSync(target) && statSync(target).size === statSync(source).size && statSync(target).mtimeMs >= statSync(source).mtimeMs;
  if (same) continue;
  mkdirSync(dirname(target), { recursive: true });
  copyFileSync(source, target);
}
