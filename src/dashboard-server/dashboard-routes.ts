/**
 * The web dashboard (a React single-page app built by `npm run build` into `dist/dashboard/`)
 * served by `parley serve` at `/`:
 * - files under `assets/` carry a content hash in their names: cached for a year, immutable;
 * - `index.html` (and every other file, e.g. the SDK at `/sdk/parley.js`) is `no-cache`:
 *   revalidated on each load, so a new build shows at once;
 * - GET/HEAD of an unknown page path (`/talk/abc`, `/calls/WC-…`) answers `index.html` and the
 *   app routes in the browser; API paths, documentation and paths that name a file keep their
 *   JSON 404;
 * - when the dashboard has not been built, its pages answer 503 with a page saying so.
 */
import { existsSync } from 'node:fs';
import { basename, join, relative, resolve, sep } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

export interface DashboardOptions {
  /** The built dashboard (the folder holding `index.html`). */
  dir: string;
}

/**
 * `dist/dashboard` of this package, found from this module wherever the process runs: compiled
 * (`dist/dashboard-server/*.js`) or from source (`src/dashboard-server/*.ts`, tests), both two
 * levels below.
 */
export const DEFAULT_DASHBOARD_DIR = resolve(import.meta.dirname, '..', '..', 'dist', 'dashboard');

const defaultDashboardOptions = { dir: DEFAULT_DASHBOARD_DIR } as const satisfies DashboardOptions;

const LONG_CACHE = 'public, max-age=31536000, immutable';
const REVALIDATE = 'no-cache';

/** Paths owned by the API and the server's own pages: never answered with the dashboard. */
const SERVER_PATHS = [
  /^\/v1(\/|$)/,
  /^\/docs(\/|$)/,
  /^\/openapi\.json$/,
  /^\/call(\/|$)/,
  /^\/health(\/|$)/,
  /^\/recordings(\/|$)/,
  // Static folders of the build: a missing file there is a 404, not the app.
  /^\/sdk(\/|$)/,
  /^\/assets(\/|$)/,
];

/**
 * No file of the build, nor any page of the app, has a longer path or name. Longer ones are a
 * JSON 404 at once: the file system refuses such names, and the static handler would answer
 * that with a bare 403.
 */
const MAX_PATH_LENGTH = 1024;
const MAX_NAME_LENGTH = 255;

function plausiblePath(path: string): boolean {
  return path.length <= MAX_PATH_LENGTH && path.split('/').every((name) => name.length <= MAX_NAME_LENGTH);
}

/** True for a GET/HEAD of a page path the dashboard routes in the browser. */
export function isDashboardPage(method: string, url: string): boolean {
  if (method !== 'GET' && method !== 'HEAD') return false;
  const path = url.split('?')[0] ?? '/';
  if (!plausiblePath(path) || SERVER_PATHS.some((re) => re.test(path))) return false;
  // `/favicon.ico`, `/x.js`: a request for a file that does not exist, not for a page.
  return !basename(path).includes('.');
}

const dashboardNotBuiltHtml = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Parley: dashboard not built</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem}
code{background:#f3f3f3;padding:.1rem .3rem;border-radius:3px}</style></head>
<body><h1>The dashboard has not been built</h1>
<p>This Parley server runs, but its web dashboard is missing. Build it from the repository with
<code>npm run build</code> (it writes <code>dist/dashboard/</code>), then reload this page.</p>
<p>The API works meanwhile: see <a href="/docs">/docs</a>.</p></body></html>
`;

export interface Dashboard {
  /** Whether `index.html` exists now (checked on each call: a build may appear while running). */
  built(): boolean;
  /**
   * Answers a request no route matched, when it is a dashboard page: `index.html`, or the 503
   * page when not built. Returns false (nothing sent) for anything else.
   */
  serveFallback(request: FastifyRequest, reply: FastifyReply): boolean;
}

/**
 * Registers the dashboard's static files on `app` (at its root, so that `reply.sendFile` is
 * available to the not-found handler) and returns the fallback to call from that handler.
 */
export async function registerDashboard(
  app: FastifyInstance,
  options: Partial<DashboardOptions> = {},
): Promise<Dashboard> {
  const dir = resolve(options.dir ?? defaultDashboardOptions.dir);
  const indexFile = join(dir, 'index.html');
  // Before the static handler looks at the disk (it answers a name too long for it with a 403).
  app.addHook('onRequest', async (request, reply) => {
    if (request.routeOptions.url === '/*' && !plausiblePath(request.url.split('?')[0] ?? '/'))
      return reply.callNotFound();
  });
  await app.register(fastifyStatic, {
    root: dir,
    prefix: '/',
    // Unknown files fall through to the not-found handler (and so to the SPA fallback).
    wildcard: true,
    index: 'index.html',
    cacheControl: false,
    // The build folder may be missing (not built yet): answered by the 503 page, not a warning.
    suppressWarning: true,
    schemaHide: true,
    setHeaders: (reply, path) => {
      const inAssets = relative(dir, path).split(sep)[0] === 'assets';
      void reply.header('cache-control', inAssets ? LONG_CACHE : REVALIDATE);
    },
  });
  const built = () => existsSync(indexFile);
  return {
    built,
    serveFallback: (request, reply) => {
      if (!isDashboardPage(request.method, request.url)) return false;
      if (!built()) {
        void reply
          .status(503)
          .header('cache-control', 'no-store')
          .type('text/html; charset=utf-8')
          .send(dashboardNotBuiltHtml);
        return true;
      }
      void reply.header('cache-control', REVALIDATE).sendFile('index.html', { cacheControl: false });
      return true;
    },
  };
}
