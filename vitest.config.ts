import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Suites that start the stack or the Pub/Sub emulator bind ports; files run in parallel
    // with ports chosen per file, so two cores are enough.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
