// TLS listener: minimum protocol version and cipher list, client certificates (verified against
// `caFile`, their subject mapped to a user), and certificate files reloaded without a restart.
import { X509Certificate } from 'node:crypto';
import {
  type SecureContextOptions,
  type TLSSocket,
  createSecureContext,
  createServer,
} from 'node:tls';
import type { Logger } from 'pino';
import type { TlsListenerOptions } from './listener-options.js';
import {
  type Accept,
  type CertificateReload,
  type Listener,
  type ListenerAddress,
  listenOn,
  urlHost,
} from './listener.js';
import { setClientCertificate } from './peer.js';
import { cipherKeyMismatch, contextProblem, handshakeFailure, readTlsFiles } from './tls-checks.js';

/** Default minimum protocol version of a TLS listener. */
export const DEFAULT_TLS_MIN_VERSION = 'TLSv1.2';

/** Secure-context options, and the certificate's key type (Node ignores the extra key). */
type TlsContext = SecureContextOptions & { readonly keyType: string | undefined };

/**
 * Read the listener's files and build its secure-context options; a bad file throws an error
 * naming it (tls-checks.ts).
 */
async function contextOptions(options: TlsListenerOptions): Promise<TlsContext> {
  const { cert, key, ca, keyType } = await readTlsFiles(options);
  const context: SecureContextOptions = {
    cert,
    key,
    minVersion: options.minVersion ?? DEFAULT_TLS_MIN_VERSION,
    ...(ca === undefined ? {} : { ca }),
    ...(options.ciphers === undefined ? {} : { ciphers: options.ciphers }),
  };
  // Applies the cipher list: throws here rather than on the first handshake.
  try {
    createSecureContext(context);
  } catch (err) {
    throw contextProblem(options, err);
  }
  return { ...context, keyType };
}

function fingerprintOf(cert: Buffer | string | undefined): string | undefined {
  try {
    return cert === undefined ? undefined : new X509Certificate(cert).fingerprint256;
  } catch {
    return undefined;
  }
}

/** The value of `field` in a certificate subject: undefined when absent or given more than once. */
export function subjectField(
  subject: Readonly<Record<string, string | string[] | undefined>> | undefined,
  field: string,
): string | undefined {
  const value = subject?.[field];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** Listen for TLS connections, optionally requiring or mapping client certificates. */
export async function listenTls(
  options: TlsListenerOptions,
  accept: Accept,
  logger: Logger,
): Promise<Listener> {
  let context = await contextOptions(options);
  const requireCert = options.requireClientCert ?? false;
  const certField = options.clientCertUser;
  const server = createServer(
    {
      ...context,
      // With clientCertUser, certificates are asked for; one that does not verify is refused
      // below, and a client without one may still log in (or be anonymous).
      requestCert: requireCert || certField !== undefined,
      rejectUnauthorized: requireCert,
    },
    (socket: TLSSocket) => {
      const remoteAddress = `${socket.remoteAddress ?? '?'}:${String(socket.remotePort ?? 0)}`;
      if (certField !== undefined) {
        const peer = socket.getPeerCertificate();
        const presented = Object.keys(peer).length > 0;
        if (presented && !socket.authorized) {
          logger.info(
            { remoteAddress, reason: String(socket.authorizationError) },
            'tls client certificate refused',
          );
          socket.destroy();
          return;
        }
        if (presented) {
          setClientCertificate(socket, {
            user: subjectField(peer.subject, certField),
            field: certField,
            fingerprint256: peer.fingerprint256,
          });
        }
      }
      accept(socket, { transport: 'tls', remoteAddress });
    },
  );
  server.on('tlsClientError', (err, socket) => {
    const { notable, ...why } = handshakeFailure(err);
    const remoteAddress = `${socket.remoteAddress ?? '?'}:${String(socket.remotePort ?? 0)}`;
    if (notable) logger.info({ remoteAddress, ...why }, 'tls handshake failed');
    else logger.debug({ remoteAddress, ...why }, 'tls handshake failed');
  });
  server.on('error', (err) => {
    logger.error({ err }, 'tls listener error');
  });
  const host = options.host ?? '127.0.0.1';
  const info = await listenOn(server, host, options.port ?? 61614);
  const address: ListenerAddress = {
    protocol: 'tls',
    host,
    port: info.port,
    url: `ssl://${urlHost(host)}:${String(info.port)}`,
  };
  logger.info(
    { address: address.url, fingerprint256: fingerprintOf(context.cert as Buffer) },
    'listening',
  );
  const mismatch = cipherKeyMismatch(
    options.ciphers,
    options.minVersion ?? DEFAULT_TLS_MIN_VERSION,
    context.keyType,
  );
  if (mismatch !== undefined) logger.warn({ address: address.url }, mismatch);
  let reloading = Promise.resolve<unknown>(undefined);
  const reload = async (): Promise<CertificateReload> => {
    let next: TlsContext;
    try {
      next = await contextOptions(options);
      // Sessions already open keep the context they were made with; new handshakes use this one.
      server.setSecureContext(next);
    } catch (err) {
      const error = (err as Error).message;
      logger.error(
        { address: address.url, err },
        'certificate reload failed: keeping the certificates in use',
      );
      return {
        url: address.url,
        reloaded: false,
        error,
        ...fingerprintField(context.cert as Buffer),
      };
    }
    context = next;
    const result = { url: address.url, reloaded: true, ...fingerprintField(next.cert as Buffer) };
    logger.info(result, 'certificates reloaded');
    return result;
  };
  return {
    address,
    close: () =>
      new Promise((resolve) => {
        server.close(() => {
          resolve();
        });
      }),
    // Reloads run one at a time, in order.
    reload: () => {
      const run = reloading.then(reload);
      reloading = run;
      return run;
    },
  };
}

function fingerprintField(cert: Buffer): { fingerprint256?: string } {
  const f = fingerprintOf(cert);
  return f === undefined ? {} : { fingerprint256: f };
}
