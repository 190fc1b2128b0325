import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { type AddressInfo, createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PubSub, type Message as PulledMessage } from '@google-cloud/pubsub';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Delivery, decodeDelivery } from '../src/core/delivery.ts';
import { loadSchemas } from '../src/core/schema-files.ts';
import { publish } from '../src/publish/publish.ts';
import {
  emulatorClientConfig,
  findEmulatorLauncher,
  isEmulatorUp,
  type RunningEmulator,
  startEmulator,
} from '../src/pubsub/emulator.ts';
import {
  deadLetterSubscriptionName,
  deadLetterTopicName,
  ensureTopology,
  subscriptionName,
  topicName,
} from '../src/pubsub/topology.ts';

describe('topology names', () => {
  it('are the contract Terraform follows', () => {
    expect(
      [topicName, deadLetterTopicName, subscriptionName, deadLetterSubscriptionName].map((f) => f('flights')),
    ).toEqual(['flights', 'flights-dead-letter', 'flights-ingest', 'flights-dead-letter-sub']);
  });

  it.each(['ab', 'google_trends'])(
    'refuses dataset "%s", which cannot name a Pub/Sub topic',
    async (dataset) => {
      // The names are checked before the client is used, so no emulator is needed.
      await expect(
        ensureTopology({} as PubSub, { datasets: [dataset], pushEndpoint: () => 'http://x/' }),
      ).rejects.toMatchObject({
        code: 'config_invalid',
      });
    },
  );
});

const launcher = findEmulatorLauncher();
if (launcher === null) {
  console.warn(
    'pubsub-emulator.test.ts: skipped, the gcloud Pub/Sub emulator is not installed (no gcloud on PATH, or no platform/pubsub-emulator in its SDK)',
  );
}

async function freePort(): Promise<number> {
  const probe = createNetServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface Push {
  at: number;
  delivery: Delivery;
  data: string;
}

const PROJECT = `ducto-test-${process.pid}`;

(launcher === null ? describe.skip : describe)('Pub/Sub emulator', () => {
  let emulator: RunningEmulator;
  let port: number;
  let pubsub: PubSub;
  let receiver: Server;
  let receiverUrl: string;
  let dataDir: string;
  const pushes: Push[] = [];
  // The receiver answers 503 to the first delivery of an event_id listed here, and always to "deadend".
  const failFirst = new Set<string>();

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'ducto-emulator-'));
    port = await freePort();
    emulator = await startEmulator({ host: '127.0.0.1', port, project: PROJECT, dataDir });
    pubsub = new PubSub(emulatorClientConfig(emulator.host, PROJECT));
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const delivery = decodeDelivery(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        const data = Buffer.from(delivery.message.data ?? []).toString('utf8');
        pushes.push({ at: Date.now(), delivery, data });
        const id = delivery.message.attributes.event_id ?? '';
        const fail = id === 'deadend' || failFirst.delete(id);
        res.statusCode = fail ? 503 : 204;
        res.end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    await ensureTopology(pubsub, {
      datasets: ['flights', 'weather'],
      pushEndpoint: (dataset) => `${receiverUrl}/push/${dataset}`,
      // Short backoff so that redelivery tests take seconds, not minutes.
      minBackoffSeconds: 1,
      maxBackoffSeconds: 2,
    });
  }, 90_000);

  afterAll(async () => {
    await pubsub?.close();
    await new Promise<void>((resolve) => (receiver ? receiver.close(() => resolve()) : resolve()));
    await emulator?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  const pushesOf = (id: string) => pushes.filter((p) => p.delivery.message.attributes.event_id === id);

  it('answers at its host and writes env.yaml like gcloud --data-dir', async () => {
    expect(await isEmulatorUp(emulator.host)).toBe(true);
    expect(readFileSync(join(dataDir, 'env.yaml'), 'utf8')).toBe(
      `PUBSUB_EMULATOR_HOST: 127.0.0.1:${port}\nPUBSUB_PROJECT_ID: ${PROJECT}\n`,
    );
  });

  it('pushes a published message to the ingest endpoint as a standard push envelope', async () => {
    const data = JSON.stringify({ origin: 'LAX' });
    const messageId = await pubsub.topic(topicName('flights')).publishMessage({
      data: Buffer.from(data),
      attributes: { event_id: 'e-1', dataset: 'flights' },
    });
    const [push] = await waitFor('the push', () =>
      pushesOf('e-1').length > 0 ? pushesOf('e-1') : undefined,
    );
    expect(push!.data).toBe(data);
    expect(push!.delivery.message).toMatchObject({
      messageId,
      attributes: { event_id: 'e-1', dataset: 'flights' },
      publishTime: expect.any(Number),
    });
    expect(push!.delivery.subscription).toBe(`projects/${PROJECT}/subscriptions/flights-ingest`);
  });

  it('redelivers a message the endpoint answered with 503', async () => {
    failFirst.add('e-retry');
    await pubsub
      .topic(topicName('flights'))
      .publishMessage({ data: Buffer.from('{}'), attributes: { event_id: 'e-retry' } });
    const [first, second] = await waitFor('the redelivery', () =>
      pushesOf('e-retry').length >= 2 ? pushesOf('e-retry') : undefined,
    );
    expect(second!.delivery.message.messageId).toBe(first!.delivery.message.messageId);
    console.info(`emulator redelivered after ${second!.at - first!.at} ms`);
  });

  it('moves a message to the dead-letter topic after 5 failed deliveries', async () => {
    const deadLetters = pubsub.subscription(deadLetterSubscriptionName('weather'));
    const received: PulledMessage[] = [];
    deadLetters.on('message', (m: PulledMessage) => {
      received.push(m);
      m.ack();
    });
    try {
      await pubsub
        .topic(topicName('weather'))
        .publishMessage({ data: Buffer.from('{"x":1}'), attributes: { event_id: 'deadend' } });
      const [letter] = await waitFor(
        'the dead letter',
        () => (received.length > 0 ? received : undefined),
        40_000,
      );
      expect(letter!.data.toString()).toBe('{"x":1}');
      expect(letter!.attributes).toMatchObject({
        event_id: 'deadend',
        CloudPubSubDeadLetterSourceDeliveryCount: '5',
        CloudPubSubDeadLetterSourceSubscription: subscriptionName('weather'),
      });
      const attempts = pushesOf('deadend');
      expect(attempts).toHaveLength(5);
      console.info(
        `emulator delivery attempts at +${attempts.map((p) => p.at - attempts[0]!.at).join(', +')} ms; dead letter at +${Date.now() - attempts[0]!.at} ms`,
      );
    } finally {
      await deadLetters.close();
    }
  }, 60_000);

  it('configures the push subscription as the cloud does', async () => {
    const [sub] = await pubsub.subscription(subscriptionName('flights')).getMetadata();
    expect(sub).toMatchObject({
      topic: `projects/${PROJECT}/topics/flights`,
      pushConfig: { pushEndpoint: `${receiverUrl}/push/flights` },
      ackDeadlineSeconds: 60,
      retryPolicy: { minimumBackoff: { seconds: '1' }, maximumBackoff: { seconds: '2' } },
      deadLetterPolicy: {
        deadLetterTopic: `projects/${PROJECT}/topics/flights-dead-letter`,
        maxDeliveryAttempts: 5,
      },
      messageRetentionDuration: { seconds: String(7 * 86_400) },
    });
    const [dead] = await pubsub.subscription(deadLetterSubscriptionName('flights')).getMetadata();
    expect(dead).toMatchObject({
      topic: `projects/${PROJECT}/topics/flights-dead-letter`,
      pushConfig: { pushEndpoint: '' },
    });
  });

  it('is idempotent, and re-points a push subscription whose endpoint changed', async () => {
    const options = { datasets: ['flights'], minBackoffSeconds: 1, maxBackoffSeconds: 2 };
    await ensureTopology(pubsub, { ...options, pushEndpoint: () => `${receiverUrl}/elsewhere` });
    const [moved] = await pubsub.subscription(subscriptionName('flights')).getMetadata();
    expect(moved.pushConfig?.pushEndpoint).toBe(`${receiverUrl}/elsewhere`);
    const result = await ensureTopology(pubsub, {
      ...options,
      pushEndpoint: (d) => `${receiverUrl}/push/${d}`,
    });
    expect(result).toEqual([
      {
        dataset: 'flights',
        topic: `projects/${PROJECT}/topics/flights`,
        deadLetterTopic: `projects/${PROJECT}/topics/flights-dead-letter`,
        subscription: `projects/${PROJECT}/subscriptions/flights-ingest`,
        deadLetterSubscription: `projects/${PROJECT}/subscriptions/flights-dead-letter-sub`,
        pushEndpoint: `${receiverUrl}/push/flights`,
        delivery: 'push',
      },
    ]);
    const [topics] = await pubsub.getTopics();
    expect(topics.map((t) => t.name).sort()).toEqual(
      ['flights', 'flights-dead-letter', 'weather', 'weather-dead-letter'].map(
        (t) => `projects/${PROJECT}/topics/${t}`,
      ),
    );
  });

  it('carries `ducto publish --topic` through the emulator to the push endpoint', async () => {
    const file = join(dataDir, 'flights-topic.ndjson');
    const flight = { date: '2001/01/01 06:55', delay: 1, distance: 2, origin: 'LAX', destination: 'SFO' };
    writeFileSync(file, `${JSON.stringify(flight)}\n${JSON.stringify(flight)}\n`);
    const summary = await publish({
      files: [file],
      topic: `projects/${PROJECT}/topics/flights`,
      project: PROJECT,
      emulatorHost: emulator.host,
      schemas: loadSchemas('schemas'),
      progress: false,
    });
    expect(summary).toMatchObject({ dataset: 'flights', read: 2, accepted: 2 });
    const ours = () => pushes.filter((p) => p.data === JSON.stringify(flight));
    const arrived = await waitFor('the published records', () => (ours().length >= 2 ? ours() : undefined));
    expect(new Set(arrived.map((p) => p.delivery.message.attributes.event_id)).size).toBe(2);
    expect(arrived[0]!.delivery.message.attributes.dataset).toBe('flights');
  });

  it('refuses to publish to a topic that does not exist', async () => {
    await expect(
      publish({
        files: [join(dataDir, 'flights-topic.ndjson')],
        topic: 'nope',
        project: PROJECT,
        emulatorHost: emulator.host,
        schemas: loadSchemas('schemas'),
        progress: false,
      }),
    ).rejects.toMatchObject({ code: 'config_invalid' });
  });

  it('refuses a port that is already in use', async () => {
    await expect(startEmulator({ host: '127.0.0.1', port, project: PROJECT })).rejects.toThrow(
      /already in use/,
    );
  });

  it('gives up after its start deadline, naming the address, and leaves nothing running', async () => {
    const other = await freePort();
    await expect(
      startEmulator({ host: '127.0.0.1', port: other, project: PROJECT, startTimeoutMs: 1 }),
    ).rejects.toThrow(`did not answer on 127.0.0.1:${other} within 1 ms`);
    // The JVM ends just after the launcher's shell; give it a bounded moment on a loaded machine.
    await waitFor(
      'the emulator to end',
      () => (emulatorProcesses(other).length === 0 ? true : undefined),
      15_000,
    );
  });

  it('stops without leaving a Java process behind', async () => {
    await emulator.stop();
    expect(await isEmulatorUp(emulator.host)).toBe(false);
    await waitFor(
      'the emulator to end',
      () => (emulatorProcesses(port).length === 0 ? true : undefined),
      15_000,
    );
  });

  it('leaves no Java process behind when its owner is killed with SIGKILL', async () => {
    const owned = await freePort();
    const script = join(dataDir, 'owner.mts');
    writeFileSync(
      script,
      `import { startEmulator } from ${JSON.stringify(resolve('src/pubsub/emulator.ts'))};
await startEmulator({ host: '127.0.0.1', port: ${owned}, project: 'p' });
console.log('ready');
setInterval(() => {}, 1000);
`,
    );
    const owner = spawn(process.execPath, ['--import', 'tsx', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((ready, fail) => {
      owner.stdout.on('data', (b: Buffer) => b.toString().includes('ready') && ready());
      owner.once('exit', (code) => fail(new Error(`the owner exited with ${code}`)));
    });
    expect(emulatorProcesses(owned)).not.toEqual([]);
    owner.kill('SIGKILL');
    try {
      await waitFor(
        'the orphan to end',
        () => (emulatorProcesses(owned).length === 0 ? true : undefined),
        15_000,
      );
    } finally {
      // Should the watchdog fail, the orphan must not outlive the test run.
      for (const line of emulatorProcesses(owned))
        process.kill(Number(line.trim().split(/\s+/)[0]), 'SIGKILL');
    }
  }, 60_000);
});

/** `pid stat args` of the live processes (zombies excluded) of an emulator started on `port`. */
function emulatorProcesses(port: number): string[] {
  return execFileSync('ps', ['-eo', 'pid=,stat=,args='], { encoding: 'utf8' })
    .split('\n')
    .filter(
      (line) =>
        line.includes('pubsub-emulator') && line.includes(`--port=${port}`) && !/^\s*\d+\s+Z/.test(line),
    );
}
