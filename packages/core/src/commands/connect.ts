// CONNECT (or STOMP) and its answer CONNECTED: the builders, and the rules each side reads them by
// ("Connecting" and "Protocol Negotiation" in the specs). A CONNECT that shares no version with
// the server is answered with unsupportedVersionFrame (error.ts).
import { ErrorCode, StompInvalidArgumentError, StompProtocolError } from '../errors.js';
import { ClientCommand, Frame, type HeadersInit, ServerCommand } from '../frame.js';
import {
  type HeartBeat,
  NO_HEART_BEAT,
  acceptedVersions,
  formatAcceptVersion,
  formatHeartBeat,
  negotiateVersion,
  parseHeartBeat,
} from '../negotiate.js';
import { SUPPORTED_VERSIONS, type StompVersion, isStompVersion } from '../version.js';
import { assembleHeaders, missingHeader, rejectBody, unexpectedFrame } from './common.js';
import { interpretError } from './error.js';

/** Options of {@link connectFrame}. */
export interface ConnectFrameOptions {
  /** Versions offered (`accept-version`). Default every version this library speaks. */
  readonly versions?: readonly StompVersion[];
  /**
   * The virtual host (`host`). Required when offering 1.1 or later; usually the host name the
   * socket connects to.
   */
  readonly host?: string;
  /** User name (`login`). */
  readonly login?: string;
  /** Password (`passcode`). */
  readonly passcode?: string;
  /** What this client can send and wants to receive, in ms (`heart-beat`; not written for 1.0). */
  readonly heartBeat?: HeartBeat;
  /** Extra headers; they cannot override the ones above. */
  readonly headers?: HeadersInit;
  /**
   * Send `STOMP` instead of `CONNECT` (1.1+ servers only; lets protocol sniffers tell STOMP
   * from HTTP). Default `false`, as the spec recommends.
   */
  readonly useStompCommand?: boolean;
}

/**
 * Build the CONNECT (or STOMP) frame opening a session. Offering only 1.0 writes a plain 1.0
 * CONNECT: no `accept-version`, `host` or `heart-beat`.
 *
 * @throws StompInvalidArgumentError for no or unknown versions, or `useStompCommand` with only 1.0
 * @throws StompProtocolError `ERR_STOMP_MISSING_HEADER` without `host` when offering 1.1+;
 * `ERR_STOMP_INVALID_HEARTBEAT` for a negative or fractional heart-beat
 */
export function connectFrame(options: ConnectFrameOptions = {}): Frame {
  const versions = options.versions ?? SUPPORTED_VERSIONS;
  if (versions.length === 0) throw new StompInvalidArgumentError('versions must not be empty');
  for (const version of versions) {
    if (!isStompVersion(version)) {
      throw new StompInvalidArgumentError(
        `unknown STOMP version ${JSON.stringify(version)} in versions`,
      );
    }
  }
  const modern = versions.some((v) => v !== '1.0');
  const command = options.useStompCommand === true ? 'STOMP' : 'CONNECT';
  if (command === 'STOMP' && !modern) {
    throw new StompInvalidArgumentError('the STOMP command needs STOMP 1.1 or later in versions');
  }
  const frame = new Frame(
    command,
    assembleHeaders(
      [
        ['accept-version', modern ? formatAcceptVersion(versions) : undefined],
        ['host', modern ? options.host : undefined],
        ['login', options.login],
        ['passcode', options.passcode],
        [
          'heart-beat',
          modern && options.heartBeat !== undefined
            ? formatHeartBeat(options.heartBeat)
            : undefined,
        ],
      ],
      options.headers,
    ),
  );
  const highest = modern ? (versions.includes('1.2') ? '1.2' : '1.1') : '1.0';
  if (modern && !frame.has('host')) {
    throw missingHeader(frame, 'host', highest, 'clients must name the virtual host from 1.1 on');
  }
  checkConnect(frame, highest, frame.header('accept-version'), frame.header('heart-beat'));
  return frame;
}

/** Options of {@link interpretConnect}. */
export interface InterpretConnectOptions {
  /** Versions the server speaks. Default every version this library speaks. */
  readonly supported?: readonly StompVersion[];
}

/** What a CONNECT (or STOMP) frame asks for. */
export interface ConnectRequest {
  /**
   * The version the session will speak: the highest version both sides share, or `undefined`
   * when there is none (answer with {@link unsupportedVersionFrame} and close).
   */
  readonly version: StompVersion | undefined;
  /** The known versions the client offered, highest first (`['1.0']` without `accept-version`). */
  readonly offered: readonly StompVersion[];
  /** The client's `heart-beat` header; `[0, 0]` when missing or when the session speaks 1.0. */
  readonly heartBeat: HeartBeat;
  /** The virtual host asked for; often missing, even from 1.1+ clients. */
  readonly host: string | undefined;
  /** The `login` header. */
  readonly login: string | undefined;
  /** The `passcode` header. */
  readonly passcode: string | undefined;
  /** Every header (first of repeats wins), for server-specific ones. */
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * Read a CONNECT or STOMP frame: negotiate the version and, when there is one, check the frame
 * against its rules (so STOMP without `accept-version`, a body, or a malformed `heart-beat`
 * throw). Each header is read once.
 *
 * Deliberately accepted: a CONNECT without `host` (the spec requires it from 1.1 on, but many
 * real clients omit it; a server with virtual hosts picks its default), and unknown extra headers.
 *
 * @throws StompProtocolError `ERR_STOMP_UNEXPECTED_FRAME` for any other frame, or as above
 */
export function interpretConnect(
  frame: Frame,
  options: InterpretConnectOptions = {},
): ConnectRequest {
  if (frame.command !== ClientCommand.CONNECT && frame.command !== ClientCommand.STOMP) {
    throw unexpectedFrame(frame, 'a session must start with CONNECT or STOMP');
  }
  const headers = frame.headerObject();
  const acceptVersion = headers['accept-version'];
  const version = negotiateVersion(acceptVersion, options.supported ?? SUPPORTED_VERSIONS);
  const heartBeat =
    version === undefined
      ? NO_HEART_BEAT
      : checkConnect(frame, version, acceptVersion, headers['heart-beat']);
  return {
    version,
    offered: acceptedVersions(acceptVersion),
    heartBeat,
    host: headers.host,
    login: headers.login,
    passcode: headers.passcode,
    headers,
  };
}

/**
 * The rule a CONNECT or STOMP frame follows in `version` (the negotiated one), given its
 * `accept-version` and `heart-beat` headers; returns the heart-beat (`[0, 0]` in 1.0, where the
 * header means nothing). [1.2 CONNECT or STOMP Frame] STOMP is 1.1+; `accept-version` is required
 * from 1.1 on, and `heart-beat` must be well formed.
 */
export function checkConnect(
  frame: Frame,
  version: StompVersion,
  acceptVersion: string | undefined,
  heartBeat: string | undefined,
): HeartBeat {
  const command = frame.command;
  if (command !== ClientCommand.CONNECT && command !== ClientCommand.STOMP) {
    throw unexpectedFrame(frame, 'expected CONNECT or STOMP');
  }
  rejectBody(frame, version);
  if (version === '1.0') {
    if (command === ClientCommand.STOMP) {
      throw unexpectedFrame(frame, 'the STOMP command exists from STOMP 1.1 on, not in 1.0');
    }
    return NO_HEART_BEAT;
  }
  if (acceptVersion === undefined) {
    throw missingHeader(
      frame,
      'accept-version',
      version,
      'it lists the versions the client speaks',
    );
  }
  return parseHeartBeat(heartBeat);
}

/** Options of {@link connectedFrame}. */
export interface ConnectedFrameOptions {
  /** The negotiated version, written as `version` (also `1.0`, as RabbitMQ and ActiveMQ do). */
  readonly version: StompVersion;
  /** A session identifier (`session`). */
  readonly session?: string;
  /** Server name and version, e.g. `stompede/0.1.0` (`server`). */
  readonly server?: string;
  /** The server's `heart-beat` (written from 1.1 on): what it can send, what it wants. */
  readonly heartBeat?: HeartBeat;
  /** Extra headers; they cannot override the ones above. */
  readonly headers?: HeadersInit;
}

/** Build the CONNECTED frame that accepts a session. */
export function connectedFrame(options: ConnectedFrameOptions): Frame {
  const modern = options.version !== '1.0';
  return new Frame(
    'CONNECTED',
    assembleHeaders(
      [
        // A 1.0 session says `version:1.0` too: the 1.0 spec has no such header but does not
        // forbid extra ones; RabbitMQ and ActiveMQ send it, and clients and test suites written
        // against them expect it.
        ['version', options.version],
        [
          'heart-beat',
          modern && options.heartBeat !== undefined
            ? formatHeartBeat(options.heartBeat)
            : undefined,
        ],
        ['session', options.session],
        ['server', options.server],
      ],
      options.headers,
    ),
  );
}

/** What a CONNECTED frame says (see {@link interpretConnected}). */
export interface ConnectedInfo {
  /** The session's version; `1.0` when the frame has no `version` header. */
  readonly version: StompVersion;
  /** The server's `heart-beat` (`[0, 0]` when missing or in 1.0). */
  readonly heartBeat: HeartBeat;
  /** The `session` header. */
  readonly session: string | undefined;
  /** The `server` header. */
  readonly server: string | undefined;
  /** Every header (first of repeats wins). */
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * Read the server's answer to CONNECT.
 *
 * @param offered - the versions the CONNECT offered; a version outside them is an error
 * @throws StompServerError when the answer is an ERROR frame, with the code it reports (see
 * `interpretError`: `ERR_STOMP_AUTHENTICATION_FAILED` for a refused login, ...)
 * @throws StompProtocolError `ERR_STOMP_UNEXPECTED_FRAME` for any other frame,
 * `ERR_STOMP_UNSUPPORTED_VERSION` for a version not offered or unknown,
 * `ERR_STOMP_INVALID_HEARTBEAT` for a malformed `heart-beat`
 */
export function interpretConnected(
  frame: Frame,
  offered: readonly StompVersion[] = SUPPORTED_VERSIONS,
): ConnectedInfo {
  if (frame.command === ServerCommand.ERROR) throw interpretError(frame);
  if (frame.command !== ServerCommand.CONNECTED) {
    throw unexpectedFrame(frame, 'expected CONNECTED in answer to CONNECT');
  }
  const headers = frame.headerObject();
  const version = headers.version ?? '1.0';
  if (!isStompVersion(version) || !offered.includes(version)) {
    throw new StompProtocolError(
      ErrorCode.UNSUPPORTED_VERSION,
      `the server chose STOMP ${JSON.stringify(version)}, which was not offered ` +
        `(${offered.join(', ')})`,
      { frame, header: 'version' },
    );
  }
  return {
    version,
    heartBeat: version === '1.0' ? NO_HEART_BEAT : parseHeartBeat(headers['heart-beat']),
    session: headers.session,
    server: headers.server,
    headers,
  };
}
