/**
 * The test projects (vitest `--project NAME`; `npm test` runs all three):
 * - unit: in process, no port, no child process, no network (DuckDB in memory or in a temp file);
 * - integration: stacks on loopback ports, child processes, the Pub/Sub emulator, a browser;
 * - repo: checks of the repository itself (docs, Terraform, workflows, rules, generated files).
 * test/docs.test.ts holds every test file to exactly one of them.
 */
export const PROJECTS = {
  unit: [
    'api',
    'batcher',
    'bigquery-sql',
    'bigquery-store',
    'delivery',
    'duckdb-store',
    'hostile',
    'property-cursors',
    'property-decoding',
    'property-paging',
    'property-sql',
    'query',
    'record',
    'replay',
    'retry',
    'runtime',
    'sql-compile',
  ],
  integration: [
    'bench-wrk',
    'bigquery-contract',
    'client',
    'container',
    'crash',
    'dashboard',
    'docs-page',
    'faults',
    'functions',
    'ingest-http',
    'integration',
    'load',
    'metrics',
    'openapi-lint',
    'publish',
    'pubsub-emulator',
    'pull-bridge',
    'replay-crash',
    'replay-dead-letters',
  ],
  repo: [
    'bench-doc',
    'client-generated',
    'deploy-bootstrap',
    'derived-forms',
    'docs-architecture',
    'docs',
    'doc-figures',
    'entry-points',
    'infra-*',
    'prometheus-rules',
    'workflows',
  ],
} as const;

export const includeOf = (names: readonly string[]): string[] => names.map((n) => `test/${n}.test.ts`);
