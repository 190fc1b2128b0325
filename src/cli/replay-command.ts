/**
 * `ducto replay`: recovery as a command. `--dead-letters` republishes a dataset's dead letters to its
 * topic; `--rejected` classifies the payloads kept in `<dataset>_rejected` again and stores what now
 * passes; `--seek` rewinds the ingest subscription to a time. Pub/Sub is the emulator when
 * PUBSUB_EMULATOR_HOST is set, else Google Cloud with application default credentials; the warehouse is
 * the configured one (a local DuckDB file, which `ducto serve` must not hold open, or BigQuery).
 */
import { SingleBar } from 'cli-progress';
import { readConfig } from '../config.ts';
import { DuctoError, ERROR_CODES, type RejectCode } from '../core/errors.ts';
import { replayRejected } from '../core/replay.ts';
import { loadSchemas, selectSchemas } from '../core/schema-files.ts';
import { createTimeParser } from '../core/time.ts';
import { createLogger } from '../logger.ts';
import { createMetrics } from '../metrics.ts';
import { emulatorClientConfig } from '../pubsub/emulator.ts';
import { replayDeadLetters } from '../pubsub/replay-dead-letters.ts';
import {
  deadLetterSubscriptionName,
  pullSubscriptionName,
  subscriptionName,
  topicName,
} from '../pubsub/topology.ts';
import { buildRuntime } from '../runtime.ts';

export interface ReplayFlags {
  dataset: string;
  deadLetters?: boolean;
  rejected?: boolean;
  seek?: string;
  /** Prefix of the cloud resource names: `<system>-<dataset>` (Terraform's naming); none locally. */
  system?: string;
  limit?: number;
  dryRun?: boolean;
  reason?: string;
  from?: string;
  to?: string;
}

const NOT_FOUND = 5;

const parseTime = createTimeParser([]);

/** An ISO 8601 time as epoch µs (without a zone, UTC: as the API reads from/to). */
function time(flag: string, value: string | undefined): number | null {
  if (value === undefined) return null;
  const t = parseTime(value);
  if (!t.ok) throw new DuctoError('bad_parameter', `${flag} "${value.slice(0, 64)}" is not an ISO 8601 time`);
  return t.micros;
}

/** The flags each mode takes; any other is an error rather than silently ignored. */
const MODE_FLAGS: Record<'deadLetters' | 'rejected' | 'seek', ReadonlyArray<keyof ReplayFlags>> = {
  deadLetters: ['limit', 'dryRun', 'system'],
  rejected: ['limit', 'dryRun', 'reason', 'from', 'to'],
  seek: ['system'],
};

function reasons(value: string | undefined): RejectCode[] | null {
  if (value === undefined) return null;
  const codes = value.split(',').map((c) => c.trim());
  for (const c of codes) {
    const known = (ERROR_CODES as Record<string, { disposition: string }>)[c];
    if (known?.disposition !== 'reject')
      throw new DuctoError('bad_parameter', `--reason "${c}" is not a reject code (docs/errors.md)`);
  }
  return codes as RejectCode[];
}

function progress(total: number | null): { update(n: number): void; stop(): void } {
  if (!process.stderr.isTTY) return { update() {}, stop() {} };
  const bar = new SingleBar({
    stream: process.stderr,
    format:
      total === null
        ? 'replaying {value} messages | {duration_formatted}'
        : 'replaying [{bar}] {value}/{total}',
    hideCursor: true,
  });
  bar.start(total ?? 0, 0);
  return { update: (n) => bar.update(n), stop: () => bar.stop() };
}

/** Runs the replay the flags ask for, prints what it did, returns the exit code. */
export async function replayCommand(
  env: Record<string, string | undefined>,
  flags: ReplayFlags,
): Promise<number> {
  const modes = [flags.deadLetters, flags.rejected, flags.seek !== undefined].filter(Boolean).length;
  if (modes !== 1)
    throw new DuctoError('bad_parameter', 'give exactly one of --dead-letters, --rejected, --seek <time>');
  const mode = flags.deadLetters ? 'deadLetters' : flags.rejected ? 'rejected' : 'seek';
  const extra = (['limit', 'dryRun', 'system', 'reason', 'from', 'to'] as const).filter(
    (f) => flags[f] !== undefined && !MODE_FLAGS[mode].includes(f),
  );
  if (extra.length > 0)
    throw new DuctoError(
      'bad_parameter',
      `--${extra.map((f) => f.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)).join(', --')} does not apply here`,
    );
  if (flags.limit !== undefined && !(Number.isInteger(flags.limit) && flags.limit >= 1))
    throw new DuctoError('bad_parameter', '--limit is a whole number of messages, at least 1');
  const config = readConfig(env);
  const logger = createLogger(config.logLevel);
  const schemas = selectSchemas(loadSchemas(config.schemasDir), config.datasets);
  if (!schemas.has(flags.dataset))
    throw new DuctoError(
      'unknown_dataset',
      `no dataset "${flags.dataset.slice(0, 64)}" in ${config.schemasDir}${config.datasets ? ` among DUCTO_DATASETS` : ''}`,
    );
  const from = time('--from', flags.from);
  const to = time('--to', flags.to);
  if (from !== null && to !== null && from >= to)
    throw new DuctoError('bad_parameter', '--from must be before --to');
  // Terraform names a system's resources `<system>-<name>`; locally there is no prefix.
  const named = (name: string) => (flags.system ? `${flags.system}-${name}` : name);
  const base = named(topicName(flags.dataset));

  if (flags.rejected) {
    const runtime = await buildRuntime(config, { logger, schemas });
    const bar = progress(flags.limit ?? null);
    try {
      const summary = await replayRejected({
        warehouse: runtime.warehouse,
        schemas: runtime.schemas,
        dataset: flags.dataset,
        maxMessageBytes: config.maxMessageBytes,
        codes: reasons(flags.reason),
        from,
        to,
        limit: flags.limit ?? null,
        dryRun: flags.dryRun === true,
        onProgress: (n) => {
          bar.update(n);
          logger.debug({ replay: { source: 'rejected', messages: n } }, 'replay progress');
        },
      });
      bar.stop();
      if (!summary.dryRun)
        for (const [outcome, n] of Object.entries(summary.outcomes))
          runtime.app.metrics.replayMessages.inc({ dataset: flags.dataset, source: 'rejected', outcome }, n);
      logger.info({ replay: { source: 'rejected', ...summary } }, 'replay finished');
      const o = summary.outcomes;
      process.stdout.write(
        `${summary.dryRun ? 'dry run: would replay' : 'replayed'} ${summary.messages} rejected message(s) of ${summary.dataset}: ` +
          `${o.stored} stored, ${o.duplicate} already stored, ${o.rejected} still rejected` +
          `${Object.keys(summary.stillRejected).length > 0 ? ` ${JSON.stringify(summary.stillRejected)}` : ''}` +
          `${summary.skipped > 0 ? `; ${summary.skipped} oversize left as they are (their payload was kept truncated)` : ''}\n`,
      );
      return 0;
    } finally {
      bar.stop();
      await runtime.close();
    }
  }

  const { PubSub } = await import('@google-cloud/pubsub');
  // The emulator, or Google Cloud: the project of GOOGLE_CLOUD_PROJECT, else the credentials' own.
  const pubsub = config.local.emulatorHostSet
    ? new PubSub(emulatorClientConfig(config.local.emulatorHost, config.project))
    : new PubSub(env.GOOGLE_CLOUD_PROJECT ? { projectId: env.GOOGLE_CLOUD_PROJECT } : {});
  try {
    if (flags.seek !== undefined) {
      const at = new Date(time('--seek', flags.seek)! / 1000);
      if (at.getTime() > Date.now())
        throw new DuctoError(
          'bad_parameter',
          '--seek takes a past time: a future one would acknowledge every message waiting now',
        );
      // The subscription ingest reads: the push one (as in the cloud), or the local pull mode's.
      const subscription = flags.system
        ? named(subscriptionName(flags.dataset))
        : config.local.delivery === 'pull'
          ? pullSubscriptionName(flags.dataset)
          : subscriptionName(flags.dataset);
      process.stderr.write(
        `seeking ${subscription} to ${at.toISOString()}: every message published since then and already acknowledged is delivered again; ingest stores each event id once, so this adds no copies. Messages published before then and still waiting are acknowledged by the seek: do not seek past an outage that is still being retried.\n`,
      );
      await pubsub.subscription(subscription).seek(at);
      logger.info({ replay: { source: 'seek', subscription, to: at.toISOString() } }, 'replay finished');
      process.stdout.write(`sought ${subscription} to ${at.toISOString()}\n`);
      return 0;
    }
    const subscription = named(deadLetterSubscriptionName(flags.dataset));
    const [[hasTopic], [hasSubscription]] = await Promise.all([
      pubsub.topic(base).exists(),
      pubsub.subscription(subscription).exists(),
    ]);
    if (!hasTopic || !hasSubscription) {
      await pubsub.getClientConfig();
      throw new DuctoError(
        'config_invalid',
        `Pub/Sub ${!hasSubscription ? `subscription ${subscription}` : `topic ${base}`} does not exist in project ${pubsub.projectId} (is --system right, and the topology created?)`,
      );
    }
    const bar = progress(flags.limit ?? null);
    const summary = await replayDeadLetters({
      pubsub,
      subscription,
      topic: base,
      limit: flags.limit ?? null,
      dryRun: flags.dryRun === true,
      onProgress: (n) => bar.update(n),
    }).finally(() => bar.stop());
    if (!flags.dryRun) {
      // The same counter as the rejected path; this short-lived process reports it in its log line.
      const { replayMessages } = createMetrics(undefined, { defaults: false });
      const labels = { dataset: flags.dataset, source: 'dead-letters' };
      replayMessages.inc({ ...labels, outcome: 'republished' }, summary.republished);
      replayMessages.inc({ ...labels, outcome: 'failed' }, summary.failed);
    }
    logger.info(
      { replay: { source: 'dead-letters', subscription, topic: base, ...summary } },
      'replay finished',
    );
    process.stdout.write(
      flags.dryRun
        ? `dry run: ${summary.read} dead letter(s) on ${subscription}, nothing moved ${JSON.stringify(summary.byAttribute)}\n`
        : `republished ${summary.republished} dead letter(s) from ${subscription} to ${base}` +
            `${summary.failed > 0 ? `; ${summary.failed} failed and stay on the subscription (${summary.firstError})` : ''}\n`,
    );
    return summary.failed > 0 ? 1 : 0;
  } catch (e) {
    if ((e as { code?: number }).code === NOT_FOUND)
      throw new DuctoError(
        'config_invalid',
        `Pub/Sub: ${(e as Error).message} (is --system right, and the topology created?)`,
      );
    throw e;
  } finally {
    await pubsub.close();
  }
}
