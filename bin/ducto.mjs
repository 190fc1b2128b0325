#!/usr/bin/env node
// From a clone, run the TypeScript sources through tsx, so `npm start` needs no build step and never
// runs a stale build; where only the build is shipped (the container image), run that.
import { existsSync } from 'node:fs';

const source = new URL('../src/entry/cli.ts', import.meta.url);
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(source.href);
} else {
  await import(new URL('../dist/entry/cli.js', import.meta.url).href);
}
