import { defineConfig } from 'vitest/config';
import { includeOf, PROJECTS } from './test/projects.ts';

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Suites that start the stack or the Pub/Sub emulator bind ports; files run in parallel
    // with ports chosen per file, so two cores are enough.
    maxWorkers: 2,
    reporters: ['default'],
    projects: Object.entries(PROJECTS).map(([name, files]) => ({
      extends: true,
      test: { name, include: includeOf(files) },
    })),
  },
});
