// The HTTP admin server: health and readiness probes, Prometheus metrics, the JSON API with its
// actions, and the console. Off the STOMP ports; loopback by default; basic auth with a hashed
// password when configured (required off loopback). Actions take JSON bodies and refuse a
// foreign Origin, so a web page elsewhere cannot make a browser act for it.
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { StompError } from '@stompede/core';
import { verifyPassword } from '../security/password.js';
import { addressOf, isLoopback } from '../listen/address.js';
import { listenOn } from '../listen/listener.js';
import { LoginThrottle } from '../security/throttle.js';
import { type Clock, systemClock } from '../session/clock.js';
import { runAction } from './actions.js';
import { AdminApi } from './api.js';
import { CONSOLE_CSP, CONSOLE_CSS, CONSOLE_HTML } from './console-page.js';
import { HttpError, json, parseObject, plain, readBody, send } from './http.js';
import type { ResolvedAdminOptions } from './options.js';
import { prometheusText } from './prometheus.js';
import type { AdminView } from './view.js';

/** A running admin server. */
export interface AdminServer {
  /** Its base URL, e.g. `http://127.0.0.1:61680`. */
  readonly url: string;
  readonly port: number;
  /** The API (and its sampler), for tests that sample on their own clock. */
  readonly api: AdminApi;
  close(): Promise<void>;
}

const VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;

/** The console's compiled scripts (`console/…/*.js`), by URL path. */
function consoleScripts(): Map<string, Buffer> {
  const root = fileURLToPath(new URL('./console/', import.meta.url));
  const out = new Map<string, Buffer>();
  const walk = (dir: string, prefix: string): void => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names) {
      if (name.endsWith('.js')) out.set(`/console/${prefix}${name}`, readFileSync(join(dir, name)));
      else if (/^[a-z]+$/.test(name)) walk(join(dir, name), `${prefix}${name}/`);
    }
  };
  walk(root, '');
  return out;
}

/** A number from a query parameter, or undefined. */
function queryNumber(url: URL, name: string): number | undefined {
  const v = url.searchParams.get(name);
  return v === null || v === '' ? undefined : Number(v);
}

/** Start the admin server. */
export async function startAdmin(
  options: ResolvedAdminOptions,
  view: AdminView,
  logger: Logger,
  clock: Clock = systemClock,
): Promise<AdminServer> {
  const throttle = new LoginThrottle({ maxEntries: 1000 });
  // Verified Authorization headers (by digest), so a polling console costs one scrypt a minute.
  const verified = new Map<string, number>();
  const scripts = consoleScripts();
  const api = new AdminApi(view, VERSION, options.sampleInterval, () => clock.now());
  await api.start();

  const authorized = async (req: IncomingMessage): Promise<boolean> => {
    const creds = options.credentials;
    if (creds === undefined) return true;
    const header = req.headers.authorization ?? '';
    const digest = createHash('sha256').update(header).digest('hex');
    const until = verified.get(digest);
    if (until !== undefined && until > Date.now()) return true;
    if (!header.startsWith('Basic ')) return false;
    const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return false;
    const address = addressOf(`${req.socket.remoteAddress ?? '?'}:0`);
    const wait = throttle.delay(address);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const userOk = decoded.slice(0, colon) === creds.user;
    const passOk = await verifyPassword(decoded.slice(colon + 1), creds.hash);
    if (!userOk || !passOk) {
      throttle.failure(address);
      return false;
    }
    throttle.success(address);
    if (verified.size >= 100) verified.clear();
    verified.set(digest, Date.now() + 60_000);
    return true;
  };

  const get = async (url: URL, res: ServerResponse): Promise<void> => {
    const q = (name: string): string | undefined => url.searchParams.get(name) ?? undefined;
    const need = (name: string): string => {
      const v = q(name);
      if (v === undefined || v === '') throw new HttpError(400, `${name} is required`);
      return v;
    };
    const path = url.pathname;
    switch (path) {
      case '/metrics':
        send(
          res,
          200,
          'text/plain; version=0.0.4; charset=utf-8',
          prometheusText(view, await view.destinations(), await view.engineReport(), {
            version: VERSION,
            journalBytes: api.journalBytes,
          }),
        );
        return;
      case '/':
      case '/dashboard':
        send(res, 200, 'text/html; charset=utf-8', CONSOLE_HTML, {
          'content-security-policy': CONSOLE_CSP,
        });
        return;
      case '/console/style.css':
        send(res, 200, 'text/css; charset=utf-8', CONSOLE_CSS);
        return;
      case '/api/overview':
        json(res, 200, await api.overview());
        return;
      case '/api/history':
        json(res, 200, api.history(queryNumber(url, 'since')));
        return;
      case '/api/destinations':
        json(res, 200, await api.destinations(q('vhost')));
        return;
      case '/api/destination': {
        const clientId = q('client-id');
        const name = q('name');
        const durable =
          clientId === undefined || name === undefined ? undefined : { clientId, name };
        json(res, 200, await api.destination(q('vhost') ?? '/', need('destination'), durable));
        return;
      }
      case '/api/messages':
        json(
          res,
          200,
          await api.messages(
            q('vhost') ?? '/',
            need('destination'),
            queryNumber(url, 'count') ?? 10,
          ),
        );
        return;
      case '/api/connections':
        json(res, 200, api.connections(q('vhost')));
        return;
      case '/api/connection':
        json(res, 200, api.connection(need('id')));
        return;
      case '/api/subscriptions':
        json(res, 200, api.subscriptions(q('vhost')));
        return;
      case '/api/users':
        json(res, 200, api.users());
        return;
      case '/api/cluster':
        json(res, 200, await api.cluster());
        return;
      case '/api/stats':
        json(res, 200, await api.stats());
        return;
      default: {
        const script = scripts.get(path);
        if (script === undefined) throw new HttpError(404, 'not found');
        send(res, 200, 'text/javascript; charset=utf-8', script);
      }
    }
  };

  const post = async (req: IncomingMessage, path: string, res: ServerResponse): Promise<void> => {
    // Actions take JSON bodies: a cross-site form cannot send one without a CORS preflight.
    if (!(req.headers['content-type'] ?? '').startsWith('application/json'))
      throw new HttpError(415, 'actions take a JSON body (content-type: application/json)');
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== `http://${req.headers.host ?? ''}`)
      throw new HttpError(403, 'cross-origin request refused');
    const fields = parseObject(await readBody(req));
    json(res, 200, await runAction(path, fields, view, logger));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://admin');
    const path = url.pathname;
    const method = req.method ?? 'GET';
    if (path === '/healthz') {
      plain(res, 200, 'ok\n');
      return;
    }
    if (path === '/readyz') {
      const ok = view.ready();
      plain(res, ok ? 200 : 503, ok ? 'ready\n' : 'not ready\n');
      return;
    }
    // Without credentials (loopback only), refuse other Host names: DNS rebinding.
    if (options.credentials === undefined) {
      const host = (req.headers.host ?? '').replace(/:\d+$/, '');
      if (!isLoopback(host)) {
        plain(res, 403, 'forbidden host\n');
        return;
      }
    }
    if (!(await authorized(req))) {
      send(res, 401, 'text/plain; charset=utf-8', 'authentication required\n', {
        'www-authenticate': 'Basic realm="stompede admin", charset="UTF-8"',
      });
      return;
    }
    try {
      if (method === 'GET' || method === 'HEAD') await get(url, res);
      else if (method === 'POST') await post(req, path, res);
      else throw new HttpError(405, 'method not allowed');
    } catch (err) {
      if (err instanceof HttpError) {
        // A body left unread cannot be followed by another request on this connection.
        if (err.status === 413) res.setHeader('connection', 'close');
        json(res, err.status, {
          error: err.message,
          ...(err.code === undefined ? {} : { code: err.code }),
        });
      } else if (err instanceof StompError) json(res, 400, { error: err.message, code: err.code });
      else throw err;
    }
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      logger.error({ err }, 'admin request failed');
      if (!res.headersSent) plain(res, 500, 'internal error\n');
      else res.destroy();
    });
  });
  const info = await listenOn(server, options.host, options.port);
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  const url = `http://${host}:${String(info.port)}`;
  logger.info({ address: url }, 'admin server listening');
  return {
    url,
    port: info.port,
    api,
    close: () =>
      new Promise((resolve) => {
        api.stop();
        server.close(() => {
          resolve();
        });
        server.closeAllConnections();
      }),
  };
}
