// Part of `npm run build`: copies Redoc's standalone bundle (a devDependency) next to the compiled
// code, where GET /docs/redoc.standalone.js serves it from in the image and the functions
// (src/api/docs-page.ts). Plain JavaScript: it runs where only the build's own tools are installed.
import { copyFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = createRequire(import.meta.url).resolve('redoc/bundles/redoc.standalone.js');
const target = join(root, 'dist/public/redoc.standalone.js');
mkdirSync(dirname(target), { recursive: true });
copyFileSync(source, target);
console.log(`copied ${source} to ${target}`);
