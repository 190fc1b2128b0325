/**
 * Fakes of the two Google clients at the boundary the BigQuery adapter calls (the methods of
 * src/adapters/bigquery/clients.ts): they record what would go over the wire and answer what a test
 * tells them.
 */
import { Readable } from 'node:stream';
import { adapt, protos } from '@google-cloud/bigquery-storage';
import protobuf from 'protobufjs';
import 'protobufjs/ext/descriptor/index.js';
import type {
  AppendConnection,
  AppendRowsRequest,
  AppendRowsResponse,
  BigQueryClient,
  BigQueryJob,
  BigQueryRow,
  StorageWriteClient,
} from '../../src/adapters/bigquery/clients.ts';

export interface SentJob {
  via: 'query' | 'stream';
  job: BigQueryJob;
  timeoutMs: number | undefined;
}

export function fakeBigQuery(answer: (job: BigQueryJob) => BigQueryRow[] | Error = () => []) {
  const sent: SentJob[] = [];
  const existing = new Set<string>();
  const created: Array<{ dataset: string; id: string; resource: Record<string, unknown> }> = [];
  const updated: Array<{ dataset: string; id: string; metadata: Record<string, unknown> }> = [];
  /** The columns of each table, as a test sets them up or the store leaves them. */
  const fieldsOf = new Map<string, Array<{ name: string }>>();
  const streams: Readable[] = [];
  let createError: unknown;
  const client: BigQueryClient = {
    async query(job, options) {
      sent.push({ via: 'query', job, timeoutMs: options?.timeoutMs });
      const rows = answer(job);
      if (rows instanceof Error) throw rows;
      return [rows];
    },
    createQueryStream(job) {
      sent.push({ via: 'stream', job, timeoutMs: undefined });
      const rows = answer(job);
      const stream = rows instanceof Error ? new Readable({ read() {} }) : Readable.from(rows);
      if (rows instanceof Error) stream.destroy(rows);
      streams.push(stream);
      return stream;
    },
    dataset(dataset) {
      return {
        table: (id) => ({
          exists: async () => [existing.has(id)] as [boolean],
          getMetadata: async () => [{ schema: { fields: fieldsOf.get(id) ?? [] } }],
          async setMetadata(metadata) {
            updated.push({ dataset, id, metadata });
            fieldsOf.set(id, (metadata.schema as { fields: Array<{ name: string }> }).fields);
            return [{}];
          },
        }),
        async createTable(id, resource) {
          if (createError) throw createError;
          created.push({ dataset, id, resource });
          existing.add(id);
          fieldsOf.set(id, (resource.schema as { fields: Array<{ name: string }> }).fields);
          return [{}];
        },
      };
    },
  };
  return {
    client,
    sent,
    existing,
    created,
    updated,
    fieldsOf,
    streams,
    failCreate(e: unknown) {
      createError = e;
    },
  };
}

interface FakeConnection extends AppendConnection {
  streamId: string;
  destinationTable: string;
  closed: boolean;
  errorListeners: number;
}

export type Respond = (request: AppendRowsRequest, n: number) => Promise<AppendRowsResponse>;

/** Appends succeed unless `respond` says otherwise; `n` counts requests from 1. */
export function fakeWriter(respond: Respond = async () => ({ appendResult: {} })) {
  const requests: AppendRowsRequest[] = [];
  const connections: FakeConnection[] = [];
  let closed = false;
  const client: StorageWriteClient = {
    async createStreamConnection({ streamId, destinationTable }) {
      const connection: FakeConnection = {
        streamId,
        destinationTable,
        closed: false,
        errorListeners: 0,
        getStreamId: () => streamId,
        write(request) {
          requests.push(request);
          const n = requests.length;
          return { getResult: () => respond(request, n) };
        },
        onSchemaUpdated: () => ({ off() {} }),
        onConnectionError() {
          connection.errorListeners++;
          return { off() {} };
        },
        reconnect() {},
        close() {
          connection.closed = true;
        },
      };
      connections.push(connection);
      return connection;
    },
    close() {
      closed = true;
    },
  };
  return {
    client,
    requests,
    connections,
    get closed() {
      return closed;
    },
  };
}

/** The rows an append request carries, decoded with the protobuf schema the request itself sends. */
export function decodeRows(request: AppendRowsRequest): Array<Record<string, unknown>> {
  const descriptor = protos.google.protobuf.DescriptorProto.fromObject(
    request.protoRows!.writerSchema!.protoDescriptor as Record<string, unknown>,
  );
  const fromDescriptor = (protobuf.Type as unknown as { fromDescriptor(d: unknown): protobuf.Type })
    .fromDescriptor;
  const type = fromDescriptor(adapt.normalizeDescriptor(descriptor));
  return request.protoRows!.rows!.serializedRows!.map((bytes) =>
    type.toObject(type.decode(bytes), { longs: Number, bytes: Array }),
  );
}

/** A gRPC-style failure, as the library rejects a pending write with. */
export function grpcError(code: number, message = `gRPC status ${code}`): Error {
  return Object.assign(new Error(message), { code });
}
