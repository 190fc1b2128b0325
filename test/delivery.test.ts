import { describe, expect, it } from 'vitest';
import { decodeDelivery, encodePushEnvelope } from '../src/core/delivery.ts';
import { datasetOfDelivery } from '../src/core/ingest.ts';

const message = {
  data: Buffer.from('{"a":1}').toString('base64'),
  attributes: { event_id: 'e1' },
  messageId: '42',
  publishTime: '2026-01-02T03:04:05.123456789Z',
};

describe('decodeDelivery', () => {
  it('decodes a Pub/Sub push envelope', () => {
    const d = decodeDelivery({ message, subscription: 'projects/p/subscriptions/flights-ingest' });
    expect(Buffer.from(d.message.data!).toString()).toBe('{"a":1}');
    expect(d.message).toMatchObject({ messageId: '42', attributes: { event_id: 'e1' } });
    expect(d.message.publishTime).toBe(Date.UTC(2026, 0, 2, 3, 4, 5, 123) * 1000 + 456);
    expect(datasetOfDelivery(d, null)).toBe('flights');
  });

  it('decodes a structured CloudEvent carrying the same message', () => {
    const d = decodeDelivery({
      specversion: '1.0',
      type: 'google.cloud.pubsub.topic.v1.messagePublished',
      source: '//pubsub.googleapis.com/projects/p/topics/flights',
      id: '42',
      data: { message, subscription: 'projects/p/subscriptions/eventarc-x' },
    });
    expect(d.topic).toBe('projects/p/topics/flights');
    expect(datasetOfDelivery({ ...d, subscription: null }, null)).toBe('flights');
  });

  it('decodes a binary-mode CloudEvent (ce-* headers)', () => {
    const d = decodeDelivery(
      { message },
      { 'ce-source': '//pubsub.googleapis.com/projects/p/topics/prod-seattle_weather' },
    );
    expect(datasetOfDelivery(d, null)).toBe('seattle_weather');
  });

  it('prefers the endpoint hint, then the dataset attribute', () => {
    const d = decodeDelivery({
      message: { ...message, attributes: { dataset: 'b' } },
      subscription: 'projects/p/subscriptions/c-ingest',
    });
    expect(datasetOfDelivery(d, 'a')).toBe('a');
    expect(datasetOfDelivery(d, null)).toBe('b');
  });

  it('marks invalid base64 data instead of throwing', () => {
    const d = decodeDelivery({ message: { ...message, data: '!!!not base64' } });
    expect(d.message.data).toBeUndefined();
  });

  it.each([
    ['not an object', 'x'],
    ['no message', { subscription: 's' }],
    ['no messageId', { message: { data: '' } }],
    ['attributes not strings', { message: { ...message, attributes: { a: 1 } } }],
    ['CloudEvent without data', { specversion: '1.0', source: 's' }],
  ])('refuses %s with bad_envelope', (_name, body) => {
    expect(() => decodeDelivery(body)).toThrow(expect.objectContaining({ code: 'bad_envelope' }));
  });

  it('round-trips what encodePushEnvelope writes', () => {
    const d = decodeDelivery(JSON.parse(encodePushEnvelope('{"x":2}', 'm1', { dataset: 'flights' })));
    expect(Buffer.from(d.message.data!).toString()).toBe('{"x":2}');
    expect(d.message.attributes.dataset).toBe('flights');
  });
});
