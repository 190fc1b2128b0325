import { DuctoError } from '../../core/errors.ts';
import type { CompiledQuery } from '../../core/sql/compile.ts';
import { microsToIso } from '../../core/time.ts';
import type { BigQueryClient, BigQueryJob, BigQueryRow } from './clients.ts';

export interface QueryRunnerOptions {
  bigquery: BigQueryClient;
  location: string | undefined;
  /** BigQuery fails a query that would bill more, instead of running it. */
  maximumBytesBilled: number;
  /** How long a request waits for its query before answering `query_timeout`. */
  timeoutMs: number;
  /** Rows per page fetched by a stream. */
  pageRows: number;
}

export interface QueryRunner {
  /** The job sent for a compiled query: every value bound by name, typed; the byte cap; short-query mode. */
  job(query: CompiledQuery, label: string): BigQueryJob;
  rows(query: CompiledQuery, label: string): Promise<BigQueryRow[]>;
  /** The rows in chunks of `chunkRows`, pages fetched as the consumer pulls. */
  stream(query: CompiledQuery, label: string, chunkRows: number): AsyncGenerator<BigQueryRow[]>;
  /** Stops the streams still being read. */
  close(): void;
}

function paramValue(p: CompiledQuery['params'][number]): unknown {
  // The client sends a TIMESTAMP parameter's `value` member as is: RFC 3339 text keeps the µs exact.
  return p.type === 'TIMESTAMP' && typeof p.value === 'number' ? { value: microsToIso(p.value) } : p.value;
}

/** A DuctoError with the code the API maps to a status, or the error itself when it is ducto's bug. */
function failure(e: unknown, label: string, maximumBytesBilled: number): unknown {
  if (e instanceof DuctoError) return e;
  const reasons = new Set(((e as { errors?: Array<{ reason?: string }> }).errors ?? []).map((x) => x.reason));
  const message = e instanceof Error ? e.message : String(e);
  if (reasons.has('bytesBilledLimitExceeded')) {
    return new DuctoError(
      'result_too_large',
      `the query would read more than ${maximumBytesBilled} bytes: narrow the time range or add filters`,
      { cause: e },
    );
  }
  if (/did not complete before/.test(message) || reasons.has('timeout') || reasons.has('jobTimeout')) {
    return new DuctoError('query_timeout', `BigQuery did not answer the ${label} query in time`, {
      cause: e,
    });
  }
  // A query BigQuery calls invalid is a bug in the compiled SQL: reported as it is (500), never hidden.
  if (reasons.has('invalidQuery') || reasons.has('invalid')) return e;
  return new DuctoError('warehouse_unavailable', `BigQuery ${label}: ${message}`, {
    cause: e,
    retryAfter: 5,
  });
}

export function createQueryRunner(options: QueryRunnerOptions): QueryRunner {
  const { bigquery } = options;
  const streams = new Set<{ destroy(): unknown }>();

  function job(query: CompiledQuery, label: string): BigQueryJob {
    const out: BigQueryJob = {
      query: query.sql,
      maximumBytesBilled: String(options.maximumBytesBilled),
      // Short-query mode: BigQuery may answer without creating a job, saving a round trip or two.
      jobCreationMode: 'JOB_CREATION_OPTIONAL',
      useLegacySql: false,
      // Billing exports and INFORMATION_SCHEMA.JOBS show which query shape costs what.
      labels: { app: 'ducto', query: label },
    };
    if (options.location !== undefined) out.location = options.location;
    if (query.params.length > 0) {
      out.params = Object.fromEntries(query.params.map((p) => [p.name, paramValue(p)]));
      out.types = Object.fromEntries(query.params.map((p) => [p.name, p.type]));
    }
    return out;
  }

  return {
    job,

    async rows(query, label) {
      try {
        const [rows] = await bigquery.query(job(query, label), { timeoutMs: options.timeoutMs });
        return rows;
      } catch (e) {
        throw failure(e, label, options.maximumBytesBilled);
      }
    },

    async *stream(query, label, chunkRows) {
      const rows = bigquery.createQueryStream({ ...job(query, label), maxResults: options.pageRows });
      streams.add(rows);
      try {
        let chunk: BigQueryRow[] = [];
        for await (const row of rows) {
          chunk.push(row);
          if (chunk.length >= chunkRows) {
            yield chunk;
            chunk = [];
          }
        }
        if (chunk.length > 0) yield chunk;
      } catch (e) {
        throw failure(e, label, options.maximumBytesBilled);
      } finally {
        // A consumer that stops early must not leave pages being fetched.
        streams.delete(rows);
        rows.destroy();
      }
    },

    close() {
      for (const rows of streams) rows.destroy();
      streams.clear();
    },
  };
}
