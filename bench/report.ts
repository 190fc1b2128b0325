export interface Goal {
  section: string;
  name: string;
  /** What the goal asks, as text (e.g. "≥ 15×"). */
  target: string;
  measured: number;
  unit: string;
  met: boolean;
}

export function goal(
  section: string,
  name: string,
  measured: number,
  op: '>=' | '<=',
  bound: number,
  unit: string,
): Goal {
  const met = op === '>=' ? measured >= bound : measured <= bound;
  return { section, name, target: `${op === '>=' ? '≥' : '≤'} ${bound}${unit}`, measured, unit, met };
}

/** A number for a table cell: 3 significant digits, thousands grouped. */
export function fmt(n: number, digits = 3): string {
  if (!Number.isFinite(n)) return String(n);
  const abs = Math.abs(n);
  if (abs >= 10 ** digits) return Math.round(n).toLocaleString('en');
  return Number(n.toPrecision(digits)).toLocaleString('en', { maximumFractionDigits: 3 });
}

export function table(headers: string[], rows: Array<Array<string | number>>): string {
  const cells = rows.map((r) => r.map((c) => (typeof c === 'number' ? fmt(c) : c)));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '─'.repeat(w))), ...cells.map(line)].join('\n');
}

export function goalLines(goals: Goal[]): string {
  return table(
    ['goal', 'target', 'measured', ''],
    goals.map((g) => [g.name, g.target, `${fmt(g.measured)}${g.unit}`, g.met ? '✓' : '✗']),
  );
}
