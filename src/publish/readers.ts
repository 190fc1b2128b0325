/** The readers of `ducto publish`: JSON arrays, NDJSON, CSV and Parquet files, record by record. */
import { createReadStream } from 'node:fs';
import { extname } from 'node:path';
import { createInterface } from 'node:readline';
import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import { parse as parseCsv } from 'csv-parse';
import type { DatasetSchema, FieldSpec } from '../core/dataset-schema.ts';
import { microsToIso } from '../core/time.ts';

export type Item =
  | { position: number; record: Record<string, unknown> }
  | { position: number | null; error: string };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

async function* readNdjson(file: string): AsyncGenerator<Item> {
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Number.POSITIVE_INFINITY });
  let position = 0;
  let line = 0;
  for await (const text of lines) {
    line++;
    if (text.trim() === '') continue;
    try {
      const value: unknown = JSON.parse(text);
      yield isObject(value)
        ? { position, record: value }
        : { position, error: `line ${line}: not a JSON object` };
    } catch (e) {
      yield { position, error: `line ${line}: ${(e as Error).message}` };
    }
    position++;
  }
}

/** CSV cells are text; the schema says what each column is. An empty cell is an absent value. */
function csvValue(text: string, field: FieldSpec | undefined): unknown {
  if (text === '') return undefined;
  switch (field?.type) {
    case 'integer':
    case 'number': {
      // Number('') and Number(' ') are 0 and Number('0x1f') is 31: only plain decimals convert.
      if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text.trim())) return text;
      return Number(text);
    }
    case 'boolean': {
      const lower = text.trim().toLowerCase();
      return lower === 'true' ? true : lower === 'false' ? false : text;
    }
    default:
      return text;
  }
}

async function* readCsv(file: string, schema: DatasetSchema): AsyncGenerator<Item> {
  // csv-parse rather than DuckDB's read_csv: it streams, and a row with the wrong number of columns
  // is reported with its line while the rows around it keep their positions (DuckDB either fails the
  // whole file or drops such rows without saying where accepted rows were).
  const parser = createReadStream(file).pipe(
    parseCsv({ bom: true, relax_column_count: true, skip_empty_lines: true, info: true }),
  );
  const fields = new Map(schema.fields.map((f) => [f.name, f]));
  let header: string[] | undefined;
  let position = 0;
  for await (const { record, info } of parser as AsyncIterable<{
    record: string[];
    info: { lines: number };
  }>) {
    if (header === undefined) {
      header = record.map((h) => h.trim());
      continue;
    }
    if (record.length !== header.length) {
      yield {
        position,
        error: `line ${info.lines}: ${record.length} columns, the header has ${header.length}`,
      };
    } else {
      const out: Record<string, unknown> = {};
      header.forEach((name, i) => {
        const value = csvValue(record[i]!, fields.get(name));
        if (value !== undefined) out[name] = value;
      });
      yield { position, record: out };
    }
    position++;
  }
}

type DuckModule = typeof import('@duckdb/node-api');

const timestampIso = (micros: bigint) => microsToIso(Number(micros));

/** DuckDB values as JSON: integers as numbers, times as ISO 8601 UTC (a zone-less time is UTC). */
function createJsonValue(duck: DuckModule): (v: DuckDBValue) => unknown {
  return (v) => {
    if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
    if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
    if (v instanceof duck.DuckDBTimestampValue || v instanceof duck.DuckDBTimestampTZValue)
      return timestampIso(v.micros);
    if (v instanceof duck.DuckDBTimestampMillisecondsValue) return timestampIso(v.millis * 1000n);
    if (v instanceof duck.DuckDBTimestampSecondsValue) return timestampIso(v.seconds * 1_000_000n);
    if (v instanceof duck.DuckDBTimestampNanosecondsValue) return timestampIso(v.nanos / 1000n);
    if (v instanceof duck.DuckDBDateValue) return new Date(v.days * 86_400_000).toISOString().slice(0, 10);
    if (v instanceof duck.DuckDBDecimalValue) return v.toDouble();
    return String(v);
  };
}

async function* readParquet(file: string, connection: DuckDBConnection): AsyncGenerator<Item> {
  const jsonValue = createJsonValue(await import('@duckdb/node-api'));
  // Streamed in DuckDB's chunks of 2,048 rows; insertion order is preserved, so positions are stable.
  const result = await connection.stream('SELECT * FROM read_parquet($1)', [file]);
  let position = 0;
  for await (const rows of result.yieldRowObjects()) {
    for (const row of rows) {
      const record: Record<string, unknown> = {};
      for (const [name, value] of Object.entries(row)) {
        if (value !== null) record[name] = jsonValue(value);
      }
      yield { position: position++, record };
    }
  }
}

async function* readJsonArray(file: string, connection: DuckDBConnection): AsyncGenerator<Item> {
  // DuckDB splits the top-level array into element texts while streaming the file.
  const result = await connection.stream(
    `SELECT json::VARCHAR AS json FROM read_json_objects($1, format = 'array')`,
    [file],
  );
  let position = 0;
  for await (const rows of result.yieldRows()) {
    for (const [text] of rows) {
      const value: unknown = JSON.parse(text as string);
      yield isObject(value)
        ? { position, record: value }
        : { position, error: `element ${position}: not a JSON object` };
      position++;
    }
  }
}

const FORMATS = ['.json', '.ndjson', '.jsonl', '.csv', '.parquet'];

export async function* readFile(
  file: string,
  schema: DatasetSchema,
  duck: () => Promise<DuckDBConnection>,
): AsyncGenerator<Item> {
  const ext = extname(file).toLowerCase();
  try {
    switch (ext) {
      case '.ndjson':
      case '.jsonl':
        yield* readNdjson(file);
        return;
      case '.csv':
        yield* readCsv(file, schema);
        return;
      case '.json':
        yield* readJsonArray(file, await duck());
        return;
      case '.parquet':
        yield* readParquet(file, await duck());
        return;
      default:
        yield { position: null, error: `unsupported file type "${ext}" (${FORMATS.join(', ')})` };
    }
  } catch (e) {
    // A file that cannot be read on (missing, malformed array, broken CSV quoting) ends here.
    yield { position: null, error: (e as Error).message.split('\n')[0] ?? String(e) };
  }
}
