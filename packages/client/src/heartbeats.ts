// STOMP heart-beats on one link: an EOL after `send` ms without a write, and a silent broker
// declared lost after `receive + grace` ms without a read. The timers come from the ticker: in a
// browser page they run in a worker, so that background-tab throttling does not delay them past
// the broker's patience.
import { clearTimer, setTimer, type TimerHandle } from './ticker.js';

/** What heart-beating watches on a link. */
export interface Beating {
  /** When the last bytes were read, and written (`Date.now()`). */
  readonly lastRead: number;
  readonly lastWrite: number;
  /** Writes queued and not yet taken by the transport (a beat waits behind them). */
  readonly writing: number;
  /** The read is held for a full subscription buffer: silence then says nothing. */
  readonly blocked: boolean;
  /** Write one heart-beat EOL. */
  beat(): void;
}

/** The two heart-beat timers of a link; {@link Heartbeats.stop} ends both. */
export class Heartbeats {
  #sendTimer: TimerHandle | undefined;
  #receiveTimer: TimerHandle | undefined;
  #stopped = false;

  /**
   * Beat every `send` ms of silence (0: never); call `onSilent` after `receive + grace` ms
   * without data (0: never check).
   */
  constructor(link: Beating, send: number, receive: number, grace: number, onSilent: () => void) {
    if (send > 0) {
      const tick = (): void => {
        if (this.#stopped) return;
        if (Date.now() - link.lastWrite >= send && link.writing === 0) link.beat();
        this.#sendTimer = setTimer(tick, Math.max(1, send - (Date.now() - link.lastWrite)));
      };
      this.#sendTimer = setTimer(tick, send);
    }
    if (receive > 0) {
      const limit = receive + grace;
      const check = (): void => {
        if (this.#stopped) return;
        const silent = Date.now() - link.lastRead;
        if (link.blocked) {
          // Suspended on purpose while the application holds the read (see the Client TSDoc).
          this.#receiveTimer = setTimer(check, limit);
        } else if (silent >= limit) {
          onSilent();
        } else {
          this.#receiveTimer = setTimer(check, limit - silent);
        }
      };
      this.#receiveTimer = setTimer(check, limit);
    }
  }

  stop(): void {
    this.#stopped = true;
    clearTimer(this.#sendTimer);
    clearTimer(this.#receiveTimer);
  }
}
