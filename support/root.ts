import { join } from 'node:path';

/** The repository's root directory, for tests, benchmarks and scripts that read its files. */
export const ROOT = join(import.meta.dirname, '..');
