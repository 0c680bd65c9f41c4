// The admin API's actions (POST, JSON bodies): purge, create a queue, delete, delete a durable subscription,
// publish a test message, close a connection. Each is logged with what it did.
import { DestinationKind, parseDestination } from '../destination.js';
import type { Logger } from 'pino';
import { NOT_COPIED } from '../handlers/send.js';
import { type Fields, HttpError } from './http.js';
import type { AdminView } from './view.js';

/** Longest reason a close sends to the client. */
const MAX_REASON = 200;

/** A header's name and value as a client could have sent them: no NUL, CR or LF; no colon in a name. */
function checkHeader(name: string, value: string): void {
  const bad = /[\0\r\n]/;
  if (name === '' || name.includes(':') || bad.test(name) || bad.test(value))
    throw new HttpError(400, `header ${JSON.stringify(name)} is not a valid STOMP header`);
  if (NOT_COPIED.has(name))
    throw new HttpError(400, `header ${name} is set by the broker, not by a publisher`);
}

/** Run the action at `path` with the request's fields; the JSON to answer with. */
export async function runAction(
  path: string,
  f: Fields,
  view: AdminView,
  logger: Logger,
): Promise<unknown> {
  switch (path) {
    case '/api/queues/purge': {
      const vhost = f.text('vhost', '/');
      const destination = f.text('destination');
      const purged = await view.purge(vhost, destination);
      logger.info({ vhost, destination, purged }, 'admin: queue purged');
      return { purged };
    }
    case '/api/destinations/create': {
      const vhost = f.text('vhost', '/');
      const destination = f.text('destination');
      const created = await view.createDestination(vhost, destination);
      if (created) logger.info({ vhost, destination }, 'admin: destination created');
      return { created };
    }
    case '/api/destinations/delete': {
      const vhost = f.text('vhost', '/');
      const destination = f.text('destination');
      const purged = await view.deleteDestination(vhost, destination);
      logger.info({ vhost, destination, purged }, 'admin: destination deleted');
      return { purged };
    }
    case '/api/durable-subscriptions/delete': {
      const vhost = f.text('vhost', '/');
      const clientId = f.text('clientId');
      const name = f.text('name');
      if (!(await view.deleteDurable(vhost, clientId, name)))
        throw new HttpError(404, `no durable subscription ${clientId}/${name} in ${vhost}`);
      logger.info({ vhost, clientId, name }, 'admin: durable subscription deleted');
      return { deleted: true };
    }
    case '/api/destinations/publish': {
      const vhost = f.text('vhost', '/');
      const destination = f.text('destination');
      const kind = parseDestination(destination).kind;
      if (kind !== DestinationKind.QUEUE && kind !== DestinationKind.TOPIC)
        throw new HttpError(400, 'a test message goes to a /queue/ or a /topic/ destination');
      const headers = f.headers('headers');
      for (const [k, v] of headers) checkHeader(k, v);
      if (f.flag('persistent') && !headers.some(([k]) => k === 'persistent'))
        headers.push(['persistent', 'true']);
      const body = Buffer.from(f.optionalText('body') ?? '', 'utf8');
      await view.publish(vhost, destination, headers, body);
      logger.info({ vhost, destination, size: body.length }, 'admin: test message published');
      return { published: true, size: body.length };
    }
    case '/api/connections/close': {
      const id = f.text('id');
      const reason = f.optionalText('reason')?.trim().slice(0, MAX_REASON);
      // eslint-disable-next-line no-control-regex
      const clean = reason?.replace(/[\0-\x1f]/g, ' ');
      if (!view.closeConnection(id, clean === '' ? undefined : clean))
        throw new HttpError(404, `no connection ${id}`);
      logger.info({ id, reason: clean }, 'admin: connection closed');
      return { closed: id };
    }
    default:
      throw new HttpError(404, 'not found');
  }
}
