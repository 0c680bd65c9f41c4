// The HTTP admin server: health and readiness probes, Prometheus metrics, a JSON API with admin
// actions, and a live dashboard. Off the STOMP ports; loopback by default; basic auth with a
// hashed password when configured (required off loopback).
import { createHash } from 'node:crypto';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { Logger } from 'pino';
import { StompError } from '@stompede/core';
import { verifyPassword } from '../security/password.js';
import { addressOf, isLoopback } from '../listen/address.js';
import { listenOn } from '../listen/listener.js';
import { LoginThrottle } from '../security/throttle.js';
import { DASHBOARD_HTML } from './dashboard.js';
import type { ResolvedAdminOptions } from './options.js';
import { prometheusText } from './prometheus.js';
import type { AdminView } from './view.js';
import type { DestinationRow } from './stats.js';
import type { EngineReport } from '../engine.js';

/** A running admin server. */
export interface AdminServer {
  /** Its base URL, e.g. `http://127.0.0.1:61680`. */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

const MAX_BODY = 64 * 1024;

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, {
    'content-type': type,
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  });
  res.end(body);
}

function json(res: ServerResponse, status: number, value: unknown): void {
  send(res, status, 'application/json; charset=utf-8', JSON.stringify(value));
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new Error('body too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', reject);
  });
}

/** Start the admin server. */
export async function startAdmin(
  options: ResolvedAdminOptions,
  view: AdminView,
  logger: Logger,
): Promise<AdminServer> {
  const throttle = new LoginThrottle({ maxEntries: 1000 });
  // Verified Authorization headers (by digest), so a polling dashboard costs one scrypt a minute.
  const verified = new Map<string, number>();

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

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://admin');
    const path = url.pathname;
    const method = req.method ?? 'GET';
    if (path === '/healthz') {
      send(res, 200, 'text/plain; charset=utf-8', 'ok\n');
      return;
    }
    if (path === '/readyz') {
      const ok = view.ready();
      send(res, ok ? 200 : 503, 'text/plain; charset=utf-8', ok ? 'ready\n' : 'not ready\n');
      return;
    }
    // Without credentials (loopback only), refuse other Host names: DNS rebinding.
    if (options.credentials === undefined) {
      const host = (req.headers.host ?? '').replace(/:\d+$/, '');
      if (!isLoopback(host)) {
        send(res, 403, 'text/plain; charset=utf-8', 'forbidden host\n');
        return;
      }
    }
    if (!(await authorized(req))) {
      res.writeHead(401, {
        'www-authenticate': 'Basic realm="stompede admin", charset="UTF-8"',
        'content-type': 'text/plain; charset=utf-8',
      });
      res.end('authentication required\n');
      return;
    }
    if (method === 'GET' || method === 'HEAD') {
      switch (path) {
        case '/metrics':
          send(
            res,
            200,
            'text/plain; version=0.0.4; charset=utf-8',
            prometheusText(view, await view.destinations(), await view.engineReport()),
          );
          return;
        case '/':
        case '/dashboard':
          res.setHeader(
            'content-security-policy',
            "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'",
          );
          send(res, 200, 'text/html; charset=utf-8', DASHBOARD_HTML);
          return;
        case '/api/stats':
          json(res, 200, statsJson(view, await view.destinations(), await view.engineReport()));
          return;
        default:
          send(res, 404, 'text/plain; charset=utf-8', 'not found\n');
          return;
      }
    }
    if (method !== 'POST') {
      send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n');
      return;
    }
    // Actions take JSON bodies: a cross-site form cannot send one without a CORS preflight.
    if (!(req.headers['content-type'] ?? '').startsWith('application/json')) {
      json(res, 415, { error: 'actions take a JSON body (content-type: application/json)' });
      return;
    }
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== `http://${req.headers.host ?? ''}`) {
      json(res, 403, { error: 'cross-origin request refused' });
      return;
    }
    let body: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(await readBody(req));
      if (typeof parsed !== 'object' || parsed === null) throw new Error('not an object');
      body = parsed as Record<string, unknown>;
    } catch {
      json(res, 400, { error: 'the body must be a JSON object' });
      return;
    }
    const vhost = typeof body.vhost === 'string' ? body.vhost : '/';
    const destination = typeof body.destination === 'string' ? body.destination : undefined;
    try {
      switch (path) {
        case '/api/queues/purge':
          if (destination === undefined) break;
          json(res, 200, { purged: await view.purge(vhost, destination) });
          logger.info({ vhost, destination }, 'admin: queue purged');
          return;
        case '/api/destinations/create': {
          if (destination === undefined) break;
          const created = await view.createDestination(vhost, destination);
          json(res, created ? 201 : 200, { created });
          if (created) logger.info({ vhost, destination }, 'admin: destination created');
          return;
        }
        case '/api/destinations/delete':
          if (destination === undefined) break;
          json(res, 200, { purged: await view.deleteDestination(vhost, destination) });
          logger.info({ vhost, destination }, 'admin: destination deleted');
          return;
        case '/api/connections/close': {
          const id = typeof body.id === 'string' ? body.id : '';
          const found = view.closeConnection(id);
          json(res, found ? 200 : 404, found ? { closed: id } : { error: `no connection ${id}` });
          if (found) logger.info({ id }, 'admin: connection closed');
          return;
        }
        default:
          send(res, 404, 'text/plain; charset=utf-8', 'not found\n');
          return;
      }
      json(res, 400, { error: 'destination is required' });
    } catch (err) {
      if (err instanceof StompError) {
        json(res, 400, { error: err.message, code: err.code });
        return;
      }
      throw err;
    }
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      logger.error({ err }, 'admin request failed');
      if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', 'internal error\n');
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
    close: () =>
      new Promise((resolve) => {
        server.close(() => {
          resolve();
        });
        server.closeAllConnections();
      }),
  };
}

/** The JSON the dashboard polls; `rows` are the view's destinations. */
export function statsJson(
  view: AdminView,
  rows: readonly DestinationRow[],
  report?: EngineReport,
): unknown {
  const m = view.metrics.snapshot();
  return {
    ...(report === undefined ? {} : { engine: report.state }),
    time: Date.now(),
    totals: {
      connections: m.connectionsActive,
      framesIn: m.framesIn,
      framesOut: m.framesOut,
      bytesIn: m.bytesIn,
      bytesOut: m.bytesOut,
      messagesEnqueued: m.messagesEnqueued,
      messagesDelivered: m.messagesDelivered,
      messagesAcked: m.messagesAcked,
      errorsSent: m.errorsSent,
      memory: process.memoryUsage().rss,
      store: view.engineStats(),
    },
    errors: Object.fromEntries(view.errors.byCode),
    destinations: rows.map((d) => ({
      vhost: d.vhost,
      destination: d.destination,
      ...(d.durable === undefined
        ? {}
        : { subscription: `${d.durable.clientId}/${d.durable.name}` }),
      depth: d.depth ?? null,
      unacked: d.unacked,
      consumers: d.consumers,
      enqueued: d.enqueued,
      delivered: d.delivered,
      acked: d.acked,
      redelivered: d.redelivered,
      deadLettered: d.deadLettered,
    })),
    connections: view.connections(),
  };
}
