import { readConfig } from '../config.ts';
import { loadSchemas } from '../core/schema-files.ts';
import { allAccepted, formatSummary, publish } from '../publish/publish.ts';

/** `ducto publish`: resolves defaults from the configuration, prints the summary, returns the exit code. */
export async function publishCommand(
  env: Record<string, string | undefined>,
  files: string[],
  opts: { dataset?: string; endpoint?: string; topic?: string; rate: number; concurrency: number },
): Promise<number> {
  const config = readConfig(env);
  const schemas = loadSchemas(config.schemasDir);
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.once('SIGINT', onSignal);
  try {
    const summary = await publish({
      files,
      schemas,
      project: config.project,
      rate: opts.rate,
      concurrency: Math.max(1, Math.floor(opts.concurrency)),
      progress: process.stderr.isTTY === true,
      signal: abort.signal,
      ...(opts.dataset !== undefined && { dataset: opts.dataset }),
      ...(opts.topic !== undefined
        ? {
            topic: opts.topic,
            ...(config.local.emulatorHostSet && { emulatorHost: config.local.emulatorHost }),
          }
        : { endpoint: opts.endpoint ?? `http://127.0.0.1:${config.local.ingestPort}/` }),
    });
    process.stdout.write(`${formatSummary(summary)}\n`);
    return allAccepted(summary) ? 0 : 1;
  } finally {
    process.off('SIGINT', onSignal);
  }
}
