/**
 * `GET /docs`: the API reference, rendered in the browser by Redoc from the document at /openapi.json.
 * Self-contained: the renderer is Redoc's standalone bundle from npm, served from here (`npm run build`
 * copies it next to the compiled code, since the deployed image has no devDependencies), and the page
 * loads nothing from another origin. The CSP allows scripts from this origin only, no inline script;
 * search is off, as it would need a worker from a blob: URL.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../config.ts';
import { DOCS_ROUTES } from '../core/derive/api-contract.ts';
import { DuctoError } from '../core/errors.ts';
import type { Route } from './route.ts';

const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; font-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ducto API reference</title>
<link rel="icon" href="data:,">
</head>
<body>
<div id="reference"></div>
<script src="${DOCS_ROUTES[1]}"></script>
<script src="${DOCS_ROUTES[2]}"></script>
</body>
</html>
`;

const INIT = `Redoc.init('/openapi.json', { disableSearch: true, hideDownloadButton: false, expandResponses: '200' }, document.getElementById('reference'));\n`;

const REDOC_LOGO = 'https://cdn.redoc.ly/redoc/logo-mini.svg';
const LOGO_INLINE = `data:image/svg+xml,${encodeURIComponent('<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>')}`;

/** The bundle: from the installed package (a clone), or where the build copied it (the image). */
function redocBundlePath(): string | null {
  try {
    return createRequire(import.meta.url).resolve('redoc/bundles/redoc.standalone.js');
  } catch {
    const built = join(PACKAGE_ROOT, 'dist/public/redoc.standalone.js');
    return existsSync(built) ? built : null;
  }
}

export function docsRoutes(): Array<[pattern: string, route: Route]> {
  let bundle: string | null = null;
  const headers = (type: string, cache: string) => ({
    'content-type': type,
    'cache-control': cache,
    'x-content-type-options': 'nosniff',
  });
  const [page, script, init] = DOCS_ROUTES;
  return [
    [
      page,
      () => ({
        status: 200,
        headers: {
          ...headers('text/html; charset=utf-8', 'public, max-age=300'),
          'content-security-policy': CSP,
        },
        body: HTML,
      }),
    ],
    [
      script,
      () => {
        if (bundle === null) {
          const path = redocBundlePath();
          if (path === null) throw new DuctoError('not_found', 'the API reference renderer is not installed');
          // The bundle's one reference to another origin, its footer logo: served inline instead, so
          // the page makes no request elsewhere (the CSP would block it anyway, with an error).
          bundle = readFileSync(path, 'utf8').replaceAll(REDOC_LOGO, LOGO_INLINE);
        }
        return {
          status: 200,
          headers: headers('text/javascript; charset=utf-8', 'public, max-age=86400'),
          body: bundle,
        };
      },
    ],
    [
      init,
      () => ({
        status: 200,
        headers: headers('text/javascript; charset=utf-8', 'public, max-age=300'),
        body: INIT,
      }),
    ],
  ];
}
