import type { protos } from '@google-cloud/bigquery-storage';

/**
 * The parts of the Google clients the BigQuery adapter calls. The real `BigQuery` and `WriterClient`
 * satisfy them; tests pass objects implementing just these, and see exactly what would be sent.
 */

/** A query job as `@google-cloud/bigquery` takes it (the fields the adapter sets). */
export interface BigQueryJob {
  query: string;
  params?: Record<string, unknown>;
  types?: Record<string, string>;
  maximumBytesBilled: string;
  jobCreationMode: 'JOB_CREATION_OPTIONAL';
  useLegacySql: false;
  location?: string;
  labels: Record<string, string>;
  /** Rows per page of a streamed result. */
  maxResults?: number;
}

export type BigQueryRow = Record<string, unknown>;

export interface BigQueryTableHandle {
  exists(): Promise<[boolean, ...unknown[]]>;
  getMetadata(): Promise<[{ schema?: { fields?: Array<{ name?: string | null }> } }, ...unknown[]]>;
  setMetadata(metadata: Record<string, unknown>): Promise<unknown>;
}

export interface BigQueryDatasetHandle {
  table(id: string): BigQueryTableHandle;
  createTable(id: string, resource: Record<string, unknown>): Promise<unknown>;
}

export interface BigQueryClient {
  /** jobs.query: the first page is in the response, so a short query is one round trip. */
  query(job: BigQueryJob, options?: { timeoutMs?: number }): Promise<[BigQueryRow[], ...unknown[]]>;
  /** Rows of a query, fetched page by page as the stream is read. */
  createQueryStream(job: BigQueryJob): AsyncIterable<BigQueryRow> & { destroy(): unknown };
  dataset(id: string): BigQueryDatasetHandle;
}

export type AppendRowsRequest = protos.google.cloud.bigquery.storage.v1.IAppendRowsRequest;
export type AppendRowsResponse = protos.google.cloud.bigquery.storage.v1.IAppendRowsResponse;

/** The bidirectional append stream to one table's write stream (the library's StreamConnection). */
export interface AppendConnection {
  getStreamId(): string;
  write(request: AppendRowsRequest): { getResult(): Promise<AppendRowsResponse> };
  onSchemaUpdated(listener: (schema: unknown) => void): { off(): void };
  onConnectionError(listener: (error: Error) => void): { off(): void };
  reconnect(): void;
  close(): void;
}

/** The Storage Write API client (`managedwriter.WriterClient`). */
export interface StorageWriteClient {
  createStreamConnection(request: { streamId: string; destinationTable: string }): Promise<AppendConnection>;
  close(): void;
}
