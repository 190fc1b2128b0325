import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodePushEnvelope } from '../src/core/delivery.ts';

// The Cloud Run functions entry points, driven over HTTP in-process by the functions-framework's own
// test server: the same handlers as `ducto serve`, behind the framework's request handling.
const dir = mkdtempSync(join(tmpdir(), 'ducto-fn-'));
const record = { date: '2001/01/01 06:55', delay: -19, distance: 1797, origin: 'LAX', destination: 'BNA' };

async function post(server: ReturnType<typeof getTestServer>, body: string, headers: Record<string, string>) {
  server.listen(0);
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  try {
    return await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/', headers }, (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode!, text }));
      });
      req.on('error', reject);
      req.end(body);
    });
  } finally {
    server.close();
  }
}

async function get(server: ReturnType<typeof getTestServer>, path: string) {
  server.listen(0);
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  try {
    const r = await fetch(`http://127.0.0.1:${port}${path}`);
    return { status: r.status, json: (await r.json()) as any, headers: r.headers };
  } finally {
    server.close();
  }
}

beforeAll(async () => {
  process.env.DUCTO_DB = join(dir, 'fn.duckdb');
  process.env.LOG_LEVEL = 'silent';
  await import('../src/entry/functions.ts');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('functions-framework entry points', () => {
  it('ingest takes a raw Pub/Sub push envelope (converted by the framework) and api serves it', async () => {
    const body = encodePushEnvelope(
      JSON.stringify(record),
      'fn-1',
      { event_id: 'fn-push', dataset: 'flights' },
      'projects/p/subscriptions/flights-ingest',
    );
    const r = await post(getTestServer('ingest'), body, { 'content-type': 'application/json' });
    expect(r.status, r.text).toBeLessThan(300);
    const got = await get(getTestServer('api'), '/v1/flights/fn-push');
    expect(got.status).toBe(200);
    expect(got.json.data).toMatchObject({
      event_id: 'fn-push',
      origin: 'LAX',
      date: '2001-01-01T06:55:00.000Z',
    });
  });

  it('ingest takes a structured CloudEvent carrying the message (Eventarc)', async () => {
    const ce = {
      specversion: '1.0',
      type: 'google.cloud.pubsub.topic.v1.messagePublished',
      source: '//pubsub.googleapis.com/projects/p/topics/flights',
      id: 'fn-2',
      datacontenttype: 'application/json',
      data: JSON.parse(
        encodePushEnvelope(JSON.stringify({ ...record, delay: 7 }), 'fn-2', { event_id: 'fn-ce' }),
      ),
    };
    const r = await post(getTestServer('ingest'), JSON.stringify(ce), {
      'content-type': 'application/cloudevents+json',
    });
    expect(r.status, r.text).toBeLessThan(300);
    const got = await get(getTestServer('api'), '/v1/flights/fn-ce');
    expect(got.json.data.delay).toBe(7);
  });

  it('acknowledges a malformed message (kept as rejected), so Pub/Sub does not retry it', async () => {
    const body = encodePushEnvelope(
      'not json',
      'fn-3',
      { dataset: 'flights' },
      'projects/p/subscriptions/flights-ingest',
    );
    const r = await post(getTestServer('ingest'), body, { 'content-type': 'application/json' });
    expect(r.status).toBeLessThan(300);
  });

  it('api answers problem+json errors through the framework', async () => {
    const r = await get(getTestServer('api'), '/v1/flights?limit=0');
    expect(r.status).toBe(400);
    expect(r.headers.get('content-type')).toMatch(/problem\+json/);
    expect(r.json.code).toBe('bad_parameter');
  });
});
