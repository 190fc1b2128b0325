/** The flights the publisher sends, and the published events the readers look for. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../../support/root.ts';
import { RECENT_IDS } from './constants.ts';

// ---------------------------------------------------------------------------------------------
// Data

export type Flight = { date: string; delay: number; distance: number; origin: string; destination: string };

/** `2001/01/01 06:55` (the vega files' format, UTC) → epoch ms. */
export function flightTime(date: string): number {
  return Date.parse(`${date.replaceAll('/', '-').replace(' ', 'T')}:00Z`);
}

export function loadFlights(): Flight[] {
  return JSON.parse(
    readFileSync(join(ROOT, 'node_modules/vega-datasets/data/flights-10k.json'), 'utf8'),
  ) as Flight[];
}

/** The most recently acknowledged event ids and the record each carried. */
export class Published {
  private readonly ids: string[] = [];
  private readonly records: number[] = [];
  private n = 0;

  add(id: string, record: number): void {
    const i = this.n++ % RECENT_IDS;
    this.ids[i] = id;
    this.records[i] = record;
  }

  pick(): { id: string; record: number } | null {
    if (this.n === 0) return null;
    const i = Math.floor(Math.random() * Math.min(this.n, RECENT_IDS));
    return { id: this.ids[i]!, record: this.records[i]! };
  }
}

export const pickOne = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;
export const iso = (ms: number) => new Date(ms).toISOString();
