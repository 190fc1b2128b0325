import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../../support/root.ts';

/** One textual change to a file under infra/: `from` must occur exactly once. */
export interface Edit {
  file: string;
  from: string;
  to: string;
}

/**
 * A copy of the repository's infra/ with edits applied, in a temporary directory that holds it as
 * `infra/`: the checks run on it with that directory as their base, as they run on the real one.
 */
export function doctoredInfra(edits: Edit[]): { base: string; remove: () => void } {
  const base = mkdtempSync(join(tmpdir(), 'ducto-doctored-'));
  cpSync(join(ROOT, 'infra'), join(base, 'infra'), {
    recursive: true,
    filter: (src) => !src.split('/').includes('.terraform'),
  });
  for (const e of edits) {
    const path = join(base, 'infra', e.file);
    const text = readFileSync(path, 'utf8');
    const count = text.split(e.from).length - 1;
    if (count !== 1)
      throw new Error(`${e.file}: expected the text to change once, found it ${count} times:\n${e.from}`);
    writeFileSync(path, text.replace(e.from, e.to));
  }
  return { base, remove: () => rmSync(base, { recursive: true, force: true }) };
}
