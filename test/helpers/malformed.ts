/** Malformed message kinds, as message data, and the reason code each must get. */
export const enc = (s: string) => Buffer.from(s, 'utf8');
export const valid = {
  date: '2001/01/01 06:55',
  delay: -19,
  distance: 1797,
  origin: 'LAX',
  destination: 'BNA',
};
const withField = (k: string, v: unknown) => enc(JSON.stringify({ ...valid, [k]: v }));

export const MALFORMED: Array<[string, Uint8Array, string]> = [
  ['empty', new Uint8Array(0), 'empty_message'],
  ['oversize', enc(JSON.stringify({ ...valid, origin: 'x'.repeat(70_000) })), 'oversize'],
  ['invalid UTF-8', Uint8Array.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), 'invalid_utf8'],
  ['lone surrogate bytes', Uint8Array.from([0x22, 0xed, 0xa0, 0x80, 0x22]), 'invalid_utf8'],
  ['not JSON', enc('date=2001/01/01'), 'not_json'],
  ['truncated JSON', enc('{"date": "2001/01/01 06:55", "delay": '), 'not_json'],
  ['JSON array', enc('[1,2,3]'), 'not_object'],
  ['JSON string', enc('"hello"'), 'not_object'],
  ['JSON null', enc('null'), 'not_object'],
  ['missing field', enc(JSON.stringify({ ...valid, delay: undefined })), 'missing_field'],
  ['unknown field', withField('gate', 'A1'), 'unknown_field'],
  [
    'prototype pollution key',
    enc(`{"__proto__": {"admin": true}, ${JSON.stringify(valid).slice(1)}`),
    'unknown_field',
  ],
  ['number as string', withField('delay', '12'), 'wrong_type'],
  ['float for integer', withField('delay', 1.5), 'wrong_type'],
  ['null for required', withField('origin', null), 'wrong_type'],
  ['boolean for string', withField('origin', true), 'wrong_type'],
  ['absurd nesting', withField('origin', JSON.parse('['.repeat(200) + ']'.repeat(200))), 'wrong_type'],
  [
    'overflowing integer',
    enc(JSON.stringify(valid).replace('1797', '123456789012345678901234567890')),
    'out_of_range',
  ],
  ['overflowing float to Infinity', enc(JSON.stringify(valid).replace('1797', '1e400')), 'out_of_range'],
  ['out of declared range', withField('distance', -5), 'out_of_range'],
  ['string too long', withField('origin', 'LAXX'), 'too_long'],
  ['pattern mismatch', withField('origin', 'la;'), 'bad_format'],
  ['unparseable time', withField('date', 'yesterday'), 'bad_time'],
  ['time as number', withField('date', 978307260), 'wrong_type'],
  ['impossible date', withField('date', '2001/02/30 06:55'), 'impossible_time'],
  ['impossible hour', withField('date', '2001-01-01T25:00:00Z'), 'impossible_time'],
  ['time with SQL', withField('date', "2001-01-01'; DROP TABLE flights;--"), 'bad_time'],
];
