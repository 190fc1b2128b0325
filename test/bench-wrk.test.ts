import { spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wrkLoad } from '../bench/wrk.ts';

// The bench's HTTP load generator (bench/wrk.ts): request bodies with distinct ids from templates,
// the counts and percentiles wrk reports, and the CPU each side spent.
const hasWrk = spawnSync('wrk', ['--version'], { stdio: 'ignore' }).error === undefined;
if (!hasWrk) console.warn('SKIP the wrk driver tests: wrk (Debian package wrk) is not installed');

describe.skipIf(!hasWrk)('the bench’s wrk driver', () => {
  let server: Server;
  let url = '';
  const ids: string[] = [];
  let answered = 0;
  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => {
        body += c.toString();
      });
      req.on('end', () => {
        if (req.method === 'POST') ids.push((JSON.parse(body) as { id: string }).id);
        answered++;
        res.writeHead(req.url === '/down' ? 503 : 204).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('sends every request a distinct id from the templates, and counts what the server answered', async () => {
    const before = answered;
    const r = await wrkLoad({
      url: `${url}/in`,
      connections: 8,
      durationS: 1,
      serverPid: process.pid,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      // A template part holding a Lua long bracket's closing sequence must be sent as it is.
      bodies: {
        templates: [
          ['{"id":"', '"}'],
          ['{"id":"', '","x":"]]"}'],
        ],
        prefix: 'p',
      },
    });
    expect(r.generator).toBe('wrk');
    expect(r.ok).toBeGreaterThan(100);
    expect(r.non2xx).toBe(0);
    expect(r.errors).toBe(0);
    // Requests in flight when wrk stops reach the server without being counted by wrk.
    const seen = answered - before;
    expect(seen).toBeGreaterThanOrEqual(r.ok);
    expect(seen - r.ok).toBeLessThanOrEqual(8);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.every((id) => /^p-\d+-\d+$/.test(id))).toBe(true);
    expect(r.p99Ms).toBeGreaterThanOrEqual(r.p50Ms);
    expect(r.p50Ms).toBeGreaterThan(0);
    expect(r.clientCores).toBeGreaterThan(0);
    expect(r.rps).toBeCloseTo(r.ok / r.durationS, 5);
  }, 30_000);

  it('reports error statuses as non-2xx, not as throughput', async () => {
    const r = await wrkLoad({ url: `${url}/down`, connections: 4, durationS: 1, serverPid: process.pid });
    expect(r.non2xx).toBeGreaterThan(0);
    expect(r.ok).toBe(0);
    expect(r.rps).toBe(0);
  }, 30_000);

  it('loads loopback only', async () => {
    await expect(
      wrkLoad({ url: 'http://localhost:1/', connections: 1, durationS: 1, serverPid: process.pid }),
    ).rejects.toThrow(/only loads 127\.0\.0\.1/);
  });
});
