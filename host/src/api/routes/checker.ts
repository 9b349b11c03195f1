/**
 * The browser checker page (host/checker, docs/checker.md) at `GET /checker/`
 * (and `/checker/index.html`; `/checker` redirects there): one self-contained
 * HTML file that verifies attestation documents and receipts in the browser
 * with the WASM verifier. Read once, when the API is built, from
 * host/checker/dist/index.html (written by `node host/checker/build.mjs`, run
 * by scripts/build.sh); without it the routes answer 404 CHECKER_NOT_BUILT.
 *
 * The page is served with the Content-Security-Policy it carries in its own
 * meta tag (inline script and style pinned by hash, WebAssembly allowed,
 * fetches to any Sentinel URL the user types), plus `frame-ancestors 'none'`,
 * which only a header can set. Nothing here trusts the page or vice versa: an
 * auditor can equally open the same file from disk.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import type { FastifyReply } from 'fastify';

import type { ApiInstance, RouteContext } from '../app.ts';
import { errorBody, httpStatusFor } from '../errors.ts';

export const CHECKER_PAGE_PATH = fileURLToPath(new URL('../../../checker/dist/index.html', import.meta.url));

/** The 404 code when the page was not built. */
export const CHECKER_NOT_BUILT = 'CHECKER_NOT_BUILT';

interface CheckerPage {
  html: Buffer;
  csp: string;
}

/** The built page and the header form of its CSP, or null when it is not built. */
export function loadCheckerPage(path: string = CHECKER_PAGE_PATH): CheckerPage | null {
  let html: Buffer;
  try {
    html = readFileSync(path);
  } catch {
    return null;
  }
  const meta = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html.toString('utf8'));
  // A page without its policy is not one build.mjs wrote: do not serve it.
  if (meta === null) return null;
  return { html, csp: `${meta[1]}; frame-ancestors 'none'` };
}

const DOC = {
  tags: ['attestation'],
  summary: 'The browser checker page',
  description:
    'A self-contained HTML page (docs/checker.md) that verifies an attestation document and receipts in the browser with the WASM verifier; ' +
    '404 CHECKER_NOT_BUILT until `node host/checker/build.mjs` (scripts/build.sh) has built it.',
};

export function checkerRoutes(app: ApiInstance, _ctx: RouteContext): void {
  const page = loadCheckerPage();
  const handler = async (_request: unknown, reply: FastifyReply) => {
    if (page === null) {
      return reply.status(httpStatusFor(CHECKER_NOT_BUILT)).send(errorBody(CHECKER_NOT_BUILT));
    }
    return reply
      .header('content-type', 'text/html; charset=utf-8')
      .header('content-security-policy', page.csp)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .header('cross-origin-opener-policy', 'same-origin')
      .header('cache-control', 'no-cache')
      .send(page.html);
  };
  app.get('/checker/', { schema: DOC }, handler);
  app.get('/checker/index.html', { schema: DOC }, handler);
  app.get('/checker', { schema: { ...DOC, summary: 'Redirects to /checker/' } }, async (_request, reply) => reply.redirect('/checker/', 301));
}
