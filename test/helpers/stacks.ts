import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Stack, type StackOptions, startStack } from '../../src/cli/serve.ts';
import { readConfig } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';

/**
 * Local stacks in one process, each on its own DuckDB file and ephemeral ports, stopped together.
 * `env` is what `readConfig` reads, over quiet test defaults (no seed, direct push).
 */
export function stackFactory(prefix: string) {
  const dir = mkdtempSync(join(tmpdir(), `ducto-${prefix}-`));
  const stacks: Stack[] = [];
  return {
    dir,
    async start(
      name: string,
      env: Record<string, string> = {},
      options: StackOptions = {},
      flags: { allowFaults?: boolean } = {},
    ): Promise<Stack> {
      const config = readConfig(
        {
          PORT: '0',
          INGEST_PORT: '0',
          DUCTO_DB: join(dir, `${name}.duckdb`),
          DUCTO_PUBSUB: 'direct',
          DUCTO_SEED: '0',
          ...env,
        },
        flags,
      );
      const s = await startStack(config, createLogger('silent'), options);
      stacks.push(s);
      return s;
    },
    stacks,
    async stopAll(): Promise<void> {
      for (const s of stacks) await s.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
