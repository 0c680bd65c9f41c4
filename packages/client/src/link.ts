// One transport and the STOMP connection on it: the parser and the read loop, the write chain
// (every frame the client sends goes through Link.send), and the heart-beats. A link lives for
// one connection; the client opens a new one for every attempt.
import {
  type BrokerAddress,
  encodeFrame,
  ErrorCode,
  type Frame,
  FrameParser,
  HEARTBEAT_BYTES,
  type ParserLimits,
  type SerializerOptions,
  StompConnectionError,
  StompError,
  type StompVersion,
} from '@stompede/core';
import { type Beating, Heartbeats } from './heartbeats.js';
import type { Transport } from './transport.js';
import { type Deferred, deferred, toError, waitFor, type WaitOptions } from './util.js';

/** What a link hands its frames to. */
export interface LinkReader {
  /** A MESSAGE; a returned promise holds the read until it settles (a full subscription). */
  message(link: Link, frame: Frame): Promise<void> | undefined;
  /** Any other frame. */
  frame(link: Link, frame: Frame): void;
  /** Reading ended: the transport closed or failed, or a frame could not be parsed. */
  ended(link: Link, error: Error): void;
}

/** What an operation is, for error messages: built only when one is needed. */
export type Label = string | (() => string);

/** Serializer options per version (shared: one object per frame is avoidable garbage). */
const ENCODE_OPTIONS: Readonly<Record<StompVersion, SerializerOptions>> = {
  '1.0': { version: '1.0' },
  '1.1': { version: '1.1' },
  '1.2': { version: '1.2' },
};

const WRITTEN: Promise<void> = Promise.resolve();

/** One transport and the STOMP connection on it. */
export class Link implements Beating {
  readonly parser: FrameParser;
  /** Settles with the CONNECTED frame, or the error that refused or ended the handshake. */
  readonly handshake: Deferred<Frame> = deferred<Frame>();
  version: StompVersion = '1.2';
  /** CONNECTED was received. */
  connected = false;
  blocked = false;
  lastRead = Date.now();
  lastWrite = Date.now();
  /** Frames queued for the transport, written or not. */
  writing = 0;
  #death: Error | undefined;
  #parsed: Frame[] = [];
  #chain: Promise<void> = WRITTEN;
  #heartbeats: Heartbeats | undefined;

  constructor(
    /** Counts the links of a client: which connection a message or a transaction belongs to. */
    readonly generation: number,
    readonly broker: BrokerAddress,
    readonly transport: Transport,
    limits: Partial<ParserLimits> | undefined,
  ) {
    this.parser = new FrameParser(
      {
        onFrame: (frame) => {
          this.#parsed.push(frame);
        },
      },
      limits === undefined ? {} : { limits },
    );
  }

  /** Why the link is dead (what its pending and later writes reject with), once it is. */
  get death(): Error | undefined {
    return this.#death;
  }

  /** True once killed or retired (a method, so that checks after an await are not narrowed). */
  isDead(): boolean {
    return this.#death !== undefined;
  }

  // ---- reading ------------------------------------------------------------------------------

  /** Read the transport until it ends, handing every frame to `reader` in order. */
  async read(reader: LinkReader): Promise<void> {
    let error: Error | undefined;
    const transport = this.transport;
    const iterator = transport[Symbol.asyncIterator]();
    // Chunks received meanwhile are taken without a turn each (see Transport.readNow).
    const received = transport.readNow?.bind(transport) ?? (() => undefined);
    let inBody = false;
    try {
      reading: for (;;) {
        const next = await iterator.next();
        if (next.done === true) break;
        inBody = true;
        for (let chunk: Uint8Array | undefined = next.value; chunk !== undefined;) {
          if (this.isDead()) break reading;
          this.lastRead = Date.now();
          for (const frame of this.#parse(chunk)) {
            if (this.isDead()) break reading;
            if (frame.command === 'MESSAGE') {
              const blocked = reader.message(this, frame);
              if (blocked !== undefined) await blocked;
            } else {
              reader.frame(this, frame);
            }
          }
          chunk = received();
        }
        inBody = false;
      }
    } catch (err) {
      error = toError(err);
    }
    // As `for await` does when its body leaves early (or throws): the transport stops reading.
    if (inBody) {
      try {
        await iterator.return?.();
      } catch {
        // The connection is being dropped either way.
      }
    }
    reader.ended(this, error ?? lostError());
  }

  /** Parse one chunk and return its frames, in order. */
  #parse(chunk: Uint8Array): Frame[] {
    this.#parsed = [];
    this.parser.push(chunk);
    const frames = this.#parsed;
    this.#parsed = [];
    return frames;
  }

  // ---- writing ------------------------------------------------------------------------------

  /**
   * Write a frame after the frames before it. Returns `undefined` when it was written at once
   * (nothing queued before it, and the transport took it without asking to wait: no promise, no
   * timer), else a promise that resolves once the transport accepted it (after `drain` when the
   * socket's buffer was full). A wait that gives up (`wait`'s timeout or signal) before the frame
   * reached the transport takes it out of the queue; after that, the frame goes out anyway.
   * Writes pending when the link dies reject with its {@link death}.
   */
  send(frame: Frame, what: Label, wait: WaitOptions): Promise<void> | undefined {
    let chunks: Uint8Array[];
    try {
      chunks = encodeFrame(frame, ENCODE_OPTIONS[this.version]);
    } catch (err) {
      return Promise.reject(toError(err));
    }
    return this.#write(chunks, what, wait);
  }

  /** {@link send}, always as a promise. */
  write(frame: Frame, what: Label, wait: WaitOptions): Promise<void> {
    return this.send(frame, what, wait) ?? WRITTEN;
  }

  /** Write one heart-beat EOL (when nothing else is queued: a queued frame is activity enough). */
  beat(): void {
    void this.#write([HEARTBEAT_BYTES], 'heart-beat', {})?.catch(() => undefined);
  }

  #write(chunks: Uint8Array[], what: Label, wait: WaitOptions): Promise<void> | undefined {
    const transport = this.transport;
    if (
      this.writing === 0 &&
      this.#death === undefined &&
      wait.signal?.aborted !== true &&
      transport.writeNow !== undefined
    ) {
      // Nothing queued: straight to the transport. A timeout or signal only applies while the
      // transport makes us wait for `drain`; the frame itself is already written.
      this.lastWrite = Date.now();
      let pending: Promise<void> | undefined;
      try {
        pending = transport.writeNow(chunks);
      } catch (err) {
        return Promise.reject(this.#writeError(err));
      }
      if (pending === undefined) return undefined;
      this.writing++;
      const settled = (): void => {
        this.writing--;
      };
      this.#chain = pending.then(settled, settled);
      return waitFor(
        pending.catch((err: unknown) => {
          throw this.#writeError(err);
        }),
        label(what),
        wait,
      );
    }
    this.writing++;
    let cancelled = false;
    const result = this.#chain.then(() => {
      if (cancelled) return undefined;
      if (this.#death !== undefined) throw this.#death;
      this.lastWrite = Date.now();
      return transport.write(chunks);
    });
    const settled = (): void => {
      this.writing--;
    };
    this.#chain = result.then(settled, settled);
    const mapped = result.catch((err: unknown) => {
      throw this.#writeError(err);
    });
    return waitFor(mapped, label(what), wait, () => {
      cancelled = true;
    });
  }

  /**
   * What a failed write rejects with: the link's death once it died (so that a close the
   * application asked for reads `ERR_STOMP_CONNECTION_CLOSED` and a broker failure
   * `ERR_STOMP_CONNECTION_LOST`, whichever way the transport reported it), else the transport's
   * coded error, a transport that closed under us being a lost connection.
   */
  #writeError(err: unknown): Error {
    if (this.#death !== undefined) return this.#death;
    if (err instanceof StompError && err.code !== ErrorCode.CONNECTION_CLOSED) return err;
    return lostError(err);
  }

  // ---- heart-beats and ending ---------------------------------------------------------------

  /** Start heart-beating: send every `send` ms of silence; expect data within `receive + grace`. */
  startHeartbeats(send: number, receive: number, grace: number, onSilent: () => void): void {
    this.#heartbeats = new Heartbeats(this, send, receive, grace, onSilent);
  }

  /**
   * The link is over and its transport closes gracefully (the caller closes it): writes pending
   * and later reject with `death`, and the end of reading is no loss.
   */
  retire(death: Error): void {
    this.#death ??= death;
    this.#heartbeats?.stop();
  }

  /** The link is over: {@link retire} it and destroy the transport (with `cause`, if any). */
  kill(death: Error, cause?: Error): void {
    this.retire(death);
    this.transport.destroy(cause);
  }
}

export function label(what: Label): string {
  return typeof what === 'string' ? what : what();
}

/** `ERR_STOMP_CONNECTION_LOST`, with what broke the connection as the cause. */
export function lostError(cause?: unknown): StompConnectionError {
  return new StompConnectionError(
    ErrorCode.CONNECTION_LOST,
    'the connection to the broker was lost',
    cause === undefined ? {} : { cause },
  );
}

/** `ERR_STOMP_CONNECTION_CLOSED`: the application closed the client. */
export function closedError(): StompConnectionError {
  return new StompConnectionError(ErrorCode.CONNECTION_CLOSED, 'the client is closed');
}
