#!/usr/bin/env node
// Runs the built CLI when present (the container image), else the TypeScript sources through tsx
// (a fresh clone after `npm ci`), so `npm start` needs no build step.
import { existsSync } from 'node:fs';

const built = new URL('../dist/cli/main.js', import.meta.url);
if (existsSync(built) && process.env.DUCTO_FROM_SOURCE !== '1') {
  await import(built.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(new URL('../src/cli/main.ts', import.meta.url).href);
}
