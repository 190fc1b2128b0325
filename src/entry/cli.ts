/**
 * The `ducto` command (bin/ducto.mjs runs this file): parses arguments and hands each command to its
 * module in src/cli/, loaded on demand so `ducto --help` starts no warehouse or Pub/Sub client.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import type { CanaryFlags } from '../cli/canary-command.ts';
import type { ReplayFlags } from '../cli/replay-command.ts';
import type { ServeFlags } from '../config.ts';
import { DuctoError } from '../core/errors.ts';
import { VERSION } from '../version.ts';

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new InvalidArgumentError('a port is an integer from 0 to 65535');
  return n;
}

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a number ≥ 0');
  return n;
}

const program = new Command('ducto')
  .description('Pub/Sub → warehouse → HTTP GET API, locally on DuckDB and in the cloud on BigQuery.')
  .version(VERSION)
  .showHelpAfterError();

program
  .command('serve')
  .description('Run the whole pipeline locally: API, ingest push endpoint and DuckDB in one process.')
  .addOption(
    new Option(
      '--pubsub <mode>',
      'bus: the Pub/Sub emulator, or direct POSTs to the ingest endpoint',
    ).choices(['auto', 'emulator', 'direct']),
  )
  .addOption(
    new Option(
      '--delivery <how>',
      'emulator to ingest: push (as in the cloud, one message at a time) or pull (streaming pull, many in flight; env DUCTO_DELIVERY)',
    ).choices(['push', 'pull']),
  )
  .option('--no-seed', 'do not load the bundled sample when the database is empty')
  .option('--port <port>', 'API port (env PORT, default 8080)', port)
  .option('--ingest-port <port>', 'ingest push endpoint port (env INGEST_PORT, default 8081)', port)
  .option('--db <path>', 'DuckDB file (env DUCTO_DB, default ./data/ducto.duckdb)')
  .option(
    '--allow-faults',
    'honour DUCTO_FAULTS (injected warehouse failures and delays, for tests and benchmarks only)',
  )
  .action(async (opts: ServeFlags) => {
    const { serveCommand } = await import('../cli/serve.ts');
    await serveCommand(process.env, opts);
  });

program
  .command('publish')
  .description('Publish records from .json, .ndjson, .csv or .parquet files, one message per record.')
  .argument('<files...>', 'files to publish')
  .option('--dataset <name>', 'dataset (default: from the file name, else flights)')
  .option('--endpoint <url>', 'ingest endpoint for direct mode (default http://127.0.0.1:$INGEST_PORT)')
  .option(
    '--topic <topic>',
    'publish to this Pub/Sub topic instead (name or projects/P/topics/T; honours PUBSUB_EMULATOR_HOST)',
  )
  .option('--rate <n>', 'messages per second at most (0 = unlimited)', positive, 0)
  .option('--concurrency <n>', 'messages in flight at most', positive, 64)
  .action(
    async (
      files: string[],
      opts: { dataset?: string; endpoint?: string; topic?: string; rate: number; concurrency: number },
    ) => {
      const { publishCommand } = await import('../cli/publish-command.ts');
      process.exitCode = await publishCommand(process.env, files, opts);
    },
  );

program
  .command('canary')
  .description('Post-deploy gate: publish canary events, fail unless the API returns exactly them in time.')
  .option('--api-url <url>', 'API base URL (env DUCTO_API_URL)')
  .option('--api-key <key>', 'API key sent as x-api-key (env DUCTO_API_KEY)')
  .option(
    '--topic <path>',
    'publish to this topic, projects/P/topics/T (env DUCTO_TOPIC; honours PUBSUB_EMULATOR_HOST)',
  )
  .option('--endpoint <url>', 'or POST push envelopes to this ingest URL (env DUCTO_INGEST_URL)')
  .option('--dataset <name>', 'dataset of the canary events', 'flights')
  .option('--count <n>', 'canary events', positive, 5)
  .option('--deadline <seconds>', 'how long to wait for them', positive, 120)
  .action(async (opts: CanaryFlags) => {
    const { canaryCommand } = await import('../cli/canary-command.ts');
    process.exitCode = await canaryCommand(process.env, opts);
  });

program
  .command('replay')
  .description(
    'Recovery: republish dead letters, store rejected events that pass now, or rewind the ingest subscription.',
  )
  .requiredOption('--dataset <name>', 'the dataset to replay')
  .option(
    '--dead-letters',
    "republish the dataset's dead letters to its topic, acknowledging each once republished",
  )
  .option('--rejected', 'classify the payloads kept in <dataset>_rejected again and store what passes now')
  .option(
    '--seek <time>',
    'rewind the ingest subscription to this ISO 8601 time (redelivers what was acknowledged since)',
  )
  .option('--system <name>', 'cloud resource prefix: topics and subscriptions are <system>-<dataset>…')
  .option('--limit <n>', 'replay at most this many messages', positive)
  .option('--dry-run', 'count what would be replayed, move nothing')
  .option('--reason <codes>', '--rejected: only these reject codes, comma-separated')
  .option('--from <time>', '--rejected: only rows received at or after this ISO 8601 time')
  .option('--to <time>', '--rejected: only rows received before this ISO 8601 time')
  .action(async (opts: ReplayFlags) => {
    const { replayCommand } = await import('../cli/replay-command.ts');
    process.exitCode = await replayCommand(process.env, opts);
  });

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof DuctoError) {
    process.stderr.write(`ducto: ${error.message} (${error.code})\n`);
    process.exit(2);
  }
  throw error;
}
