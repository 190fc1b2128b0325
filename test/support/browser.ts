/**
 * Headless Chromium for the browser tests (the dashboard, the /docs reference): Debian's chromium
 * driven by playwright-core, which never downloads a browser. Where either is missing, the tests say why
 * they skip.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

const CHROMIUM = '/usr/bin/chromium';

function playwrightInstalled(): boolean {
  try {
    createRequire(import.meta.url).resolve('playwright-core');
    return true;
  } catch {
    return false;
  }
}

/** Why the browser tests cannot run here, or null when they can. */
export const browserSkipReason: string | null = !existsSync(CHROMIUM)
  ? `${CHROMIUM} not found (install Debian's chromium package)`
  : !playwrightInstalled()
    ? 'playwright-core is not installed'
    : null;

/** A headless Chromium with nothing of its own running in the background. */
export async function launchChromium() {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
