import { DateTime } from 'luxon';

/**
 * Event times are kept as integer microseconds since the Unix epoch, UTC: the precision of both
 * DuckDB's TIMESTAMP and BigQuery's TIMESTAMP.
 */
export type Micros = number;

export type TimeParse = { ok: true; micros: Micros } | { ok: false; code: 'bad_time' | 'impossible_time' };

// Year bounds keep every stored time representable in both warehouses and in a JS Date; a time must
// also be a safe integer of microseconds (mid-1684 to mid-2255), or it would lose precision.
const MIN_YEAR = 1;
const MAX_YEAR = 9999;

// RFC 3339 / the common ISO 8601 profile, parsed by hand on the hot path (luxon costs ~5 µs per call,
// this ~0.3 µs); anything else ISO-shaped falls through to luxon so the full standard is accepted.
const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?([Zz]|[+-]\d{2}:?\d{2})?)?$/;

// Tokens of the declared source formats, in luxon's syntax. A format made only of these is compiled
// to a regular expression; any other format is parsed by luxon itself.
const TOKENS: Record<string, string> = {
  yyyy: '(\\d{4})',
  MM: '(\\d{2})',
  dd: '(\\d{2})',
  HH: '(\\d{2})',
  mm: '(\\d{2})',
  ss: '(\\d{2})',
  SSS: '(\\d{3})',
};
const TOKEN_RE = /yyyy|MM|dd|HH|mm|ss|SSS/g;

type Parser = (s: string) => TimeParse | undefined;

function fromParts(y: number, mo: number, d: number, h = 0, mi = 0, s = 0, us = 0, offsetMin = 0): TimeParse {
  if (y < MIN_YEAR || y > MAX_YEAR) return { ok: false, code: 'impossible_time' };
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59)
    return { ok: false, code: 'impossible_time' };
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  const check = new Date(ms);
  // Date.UTC rolls 30 February over into March; a round trip catches impossible days.
  if (check.getUTCDate() !== d || check.getUTCMonth() !== mo - 1)
    return { ok: false, code: 'impossible_time' };
  // Date.UTC maps years 0–99 to 1900–1999.
  const fixed = y < 100 ? new Date(ms).setUTCFullYear(y) : ms;
  return micros((fixed - offsetMin * 60_000) * 1000 + us);
}

function micros(value: number): TimeParse {
  return Number.isSafeInteger(value) ? { ok: true, micros: value } : { ok: false, code: 'impossible_time' };
}

function parseRfc3339(s: string): TimeParse | undefined {
  const m = RFC3339.exec(s);
  if (!m) return undefined;
  let offset = 0;
  const zone = m[8];
  if (zone && zone !== 'Z' && zone !== 'z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const oh = Number(digits.slice(0, 2));
    const om = Number(digits.slice(2));
    if (oh > 23 || om > 59) return { ok: false, code: 'impossible_time' };
    offset = sign * (oh * 60 + om);
  }
  const frac = m[7] ? Number(m[7].padEnd(6, '0').slice(0, 6)) : 0;
  return fromParts(
    Number(m[1]),
    Number(m[2]),
    Number(m[3]),
    m[4] ? Number(m[4]) : 0,
    m[5] ? Number(m[5]) : 0,
    m[6] ? Number(m[6]) : 0,
    frac,
    offset,
  );
}

function luxonResult(dt: DateTime): TimeParse {
  if (!dt.isValid) {
    return { ok: false, code: dt.invalidReason === 'unit out of range' ? 'impossible_time' : 'bad_time' };
  }
  if (dt.year < MIN_YEAR || dt.year > MAX_YEAR) return { ok: false, code: 'impossible_time' };
  return micros(dt.toMillis() * 1000);
}

function compileFormat(format: string): Parser {
  const literal = format.replace(TOKEN_RE, '\u0000');
  if (/[a-zA-Z]/.test(literal)) {
    // Tokens outside the fast set (month names, week dates…): let luxon do it.
    return (s) => {
      const dt = DateTime.fromFormat(s, format, { zone: 'utc' });
      return dt.isValid || dt.invalidReason === 'unit out of range' ? luxonResult(dt) : undefined;
    };
  }
  const order: string[] = [];
  const source = format.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(TOKEN_RE, (t) => {
    order.push(t);
    return TOKENS[t]!;
  });
  const re = new RegExp(`^${source}$`);
  return (s) => {
    const m = re.exec(s);
    if (!m) return undefined;
    const v: Record<string, number> = { yyyy: 0, MM: 1, dd: 1, HH: 0, mm: 0, ss: 0, SSS: 0 };
    order.forEach((t, i) => {
      v[t] = Number(m[i + 1]);
    });
    return fromParts(v.yyyy!, v.MM!, v.dd!, v.HH!, v.mm!, v.ss!, v.SSS! * 1000);
  };
}

/**
 * Builds the time parser of a dataset: ISO 8601 always, then each format the schema declares for
 * its source (times without a zone are UTC).
 */
export function createTimeParser(formats: readonly string[]): (s: string) => TimeParse {
  const parsers = formats.map(compileFormat);
  return (s) => {
    if (s.length === 0 || s.length > 64) return { ok: false, code: 'bad_time' };
    const fast = parseRfc3339(s);
    if (fast) return fast;
    for (const p of parsers) {
      const r = p(s);
      if (r) return r;
    }
    if (/^\d{4}-?W?\d/.test(s) || /^[+-]\d{6}/.test(s)) {
      const dt = DateTime.fromISO(s, { zone: 'utc' });
      if (dt.isValid || dt.invalidReason === 'unit out of range') return luxonResult(dt);
    }
    return { ok: false, code: 'bad_time' };
  };
}

export function microsToIso(micros: Micros): string {
  const ms = Math.floor(micros / 1000);
  const rest = micros - ms * 1000;
  const iso = new Date(ms).toISOString();
  // Keep microseconds when there are any, as RFC 3339 allows.
  return rest === 0 ? iso : `${iso.slice(0, -1)}${String(rest).padStart(3, '0')}Z`;
}
