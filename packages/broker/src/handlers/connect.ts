// CONNECT and STOMP: version negotiation, virtual host, heart-beats ("Connecting" in the specs).
import {
  ErrorCode,
  type Frame,
  StompProtocolError,
  interpretConnect,
  unsupportedVersionFrame,
} from '@stompede/core';
import type { MaybePromise } from '../engine.js';
import type { Connection } from '../connection.js';

/** The first frame of a session: it must be CONNECT or STOMP. */
export function handleConnect(conn: Connection, frame: Frame): MaybePromise<void> {
  const request = interpretConnect(frame, { supported: conn.options.versions });
  if (request.version === undefined) {
    // [1.1/1.2 Protocol Negotiation] no common version: ERROR listing ours, then close.
    conn.sendError(unsupportedVersionFrame(conn.options.versions));
    return;
  }
  let vhost = conn.options.defaultVhost;
  const vhosts = conn.options.vhosts;
  if (vhosts.length > 0 && request.host !== undefined) {
    if (!vhosts.includes(request.host)) {
      throw new StompProtocolError(
        ErrorCode.FORBIDDEN,
        `unknown virtual host ${JSON.stringify(request.host.slice(0, 200))}`,
        { frame, header: 'host' },
      );
    }
    vhost = request.host;
  }
  const version = request.version;
  // Authentication (login/passcode, anonymous access): accepts now, or once the password is
  // checked (that promise never rejects: failures are answered with an ERROR). Returning it makes
  // the connection hold the frames a client pipelined after CONNECT until the login is decided.
  return conn.options.security.authenticate(conn, frame, vhost, () => {
    // Durable subscriptions are found by client-id: scope it to the logged-in user, so one user
    // naming another's client-id cannot attach to (and drain) that user's subscriptions.
    const clientId = request.headers['client-id'] ?? '';
    const who = conn.options.security.principal(conn);
    const owner = who.anonymous ? clientId : JSON.stringify([who.user, clientId]);
    conn.accept(version, vhost, owner, request.heartBeat);
  });
}
