// CONNECT and STOMP: version negotiation, virtual host, heart-beats ("Connecting" in the specs).
import {
  ErrorCode,
  type Frame,
  StompProtocolError,
  interpretConnect,
  unsupportedVersionFrame,
} from '@stompede/core';
import type { MaybePromise } from '../engine.js';
import type { Principal } from '../security/authenticator.js';
import type { Session } from '../session/session.js';

/** The first frame of a session: it must be CONNECT or STOMP. */
export function handleConnect(session: Session, frame: Frame): MaybePromise<void> {
  const options = session.options;
  const request = interpretConnect(frame, { supported: options.versions });
  if (request.version === undefined) {
    // [1.1/1.2 Protocol Negotiation] no common version: ERROR listing ours, then close.
    session.refuse(unsupportedVersionFrame(options.versions));
    return;
  }
  let vhost = options.defaultVhost;
  const vhosts = options.vhosts;
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
  const accept = (principal: Principal): void => {
    // Durable subscriptions are found by client-id: scope it to the logged-in user, so one user
    // naming another's client-id cannot attach to (and drain) that user's subscriptions.
    const clientId = request.headers['client-id'] ?? '';
    const owner = principal.anonymous ? clientId : JSON.stringify([principal.user, clientId]);
    session.accept({ version, vhost, clientId: owner, heartBeat: request.heartBeat, principal });
  };
  // Authentication (login/passcode, client certificate, anonymous access): now, or once the
  // password is checked. Returning that promise makes the connection hold the frames a client
  // pipelined after CONNECT until the login is decided; a refusal rejects it (an ERROR).
  const principal = session.authenticator.authenticate({
    frame,
    vhost,
    address: session.peer.address,
    cert: session.peer.cert,
    // On use only: the session's child logger costs ~600 bytes an idle connection would keep.
    get log() {
      return session.log;
    },
  });
  if (principal instanceof Promise) return principal.then(accept);
  accept(principal);
  return undefined;
}
