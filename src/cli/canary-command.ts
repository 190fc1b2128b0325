import { runCanary } from '../canary.ts';
import { DuctoError } from '../core/errors.ts';

/**
 * `ducto canary` (`npm run test:deployed`): the post-deploy gate. Publishes canary events and
 * fails unless the API returns exactly those events, unchanged, before the deadline.
 */
/** The options of `ducto canary`, as its flags give them. */
export interface CanaryFlags {
  apiUrl?: string;
  apiKey?: string;
  topic?: string;
  endpoint?: string;
  dataset: string;
  count: number;
  deadline: number;
}

export async function canaryCommand(
  env: Record<string, string | undefined>,
  opts: CanaryFlags,
): Promise<number> {
  const apiUrl = (opts.apiUrl ?? env.DUCTO_API_URL)?.replace(/\/$/, '');
  const topic = opts.topic ?? env.DUCTO_TOPIC;
  const endpoint = opts.endpoint ?? env.DUCTO_INGEST_URL;
  if (!apiUrl) throw new DuctoError('config_invalid', 'set DUCTO_API_URL (or --api-url): the API to check');
  if (!topic && !endpoint) {
    throw new DuctoError(
      'config_invalid',
      'set DUCTO_TOPIC (projects/P/topics/T) or DUCTO_INGEST_URL: where canary events enter',
    );
  }
  const apiKey = opts.apiKey ?? env.DUCTO_API_KEY;
  const log = (line: string) => process.stderr.write(`canary: ${line}\n`);
  const report = await runCanary({
    apiUrl,
    ...(apiKey && { apiKey }),
    via: topic
      ? { topic, ...(env.PUBSUB_EMULATOR_HOST && { emulatorHost: env.PUBSUB_EMULATOR_HOST }) }
      : { endpoint: endpoint! },
    dataset: opts.dataset,
    count: opts.count,
    deadlineMs: opts.deadline * 1000,
    log,
  });
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  if (report.ok) {
    log(`PASS: ${report.published} events visible through ${apiUrl} after ${report.visibleAfterMs} ms`);
    return 0;
  }
  log(
    `FAIL: ${report.missing.length} of ${report.published} canary events missing after ${opts.deadline} s, ${report.mismatched.length} with other content`,
  );
  return 1;
}
