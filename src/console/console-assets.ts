import { existsSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import * as path from 'node:path';
import type { NestExpressApplication } from '@nestjs/platform-express';

/** Where the operator console is served. */
export const CONSOLE_PATH = '/console';

/**
 * The built console (scripts/build-console.mjs writes dist/console): found from the compiled
 * server (dist/src/console) and from the sources (src/console, ts-node and the tests).
 */
export function consoleDir(): string | null {
  const candidates = [
    path.join(__dirname, '..', '..', 'console'),
    path.join(__dirname, '..', '..', 'dist', 'console'),
  ];
  return candidates.find((dir) => existsSync(path.join(dir, 'index.html'))) ?? null;
}

/**
 * What the console's pages may do: load their own script and styles, and talk to this
 * server's API (HTTP, and graphql-ws: 'self' covers ws:// and wss:// to the same host);
 * nothing from elsewhere, and no framing.
 */
const CONSOLE_HEADERS: Record<string, string> = {
  'Content-Security-Policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
};

/**
 * Serves the console's static files under /console/ (when built). The page always revalidates
 * (no-cache), so a new build is picked up at the next load.
 */
export function serveConsole(app: NestExpressApplication): void {
  const dir = consoleDir();
  if (!dir) return;
  app.useStaticAssets(dir, {
    prefix: `${CONSOLE_PATH}/`,
    index: 'index.html',
    redirect: false,
    setHeaders: (res: ServerResponse) => {
      for (const [name, value] of Object.entries(CONSOLE_HEADERS)) res.setHeader(name, value);
      res.setHeader('Cache-Control', 'no-cache');
    },
  });
}
