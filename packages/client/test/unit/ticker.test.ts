// The ticker: plain setTimeout on Node; in a browser page, timers run in one shared Blob URL
// worker (here a fake Worker, Blob, URL.createObjectURL and document installed on globalThis and
// driven by hand), with a fall-back to main-thread timers that loses no callback.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, it } from 'node:test';
import {
  canUseWorkerTimers,
  createTicker,
  delay,
  setTimer,
  clearTimer,
} from '../../dist/ticker.js';

describe('ticker on Node', () => {
  it('uses plain timers: no document, no Worker', () => {
    assert.equal(canUseWorkerTimers(), false);
  });

  it('fires a timer after its delay', async () => {
    const start = Date.now();
    const fired = await new Promise<number>((resolve) => {
      setTimer(() => {
        resolve(Date.now());
      }, 20);
    });
    assert.ok(fired - start >= 15, `fired after ${String(fired - start)} ms`);
  });

  it('clearTimer cancels; undefined and fired handles are ignored', async () => {
    let fired = 0;
    const handle = setTimer(() => fired++, 10);
    clearTimer(handle);
    clearTimer(undefined);
    const done = setTimer(() => fired++, 1);
    await sleep(40);
    clearTimer(done);
    assert.equal(fired, 1);
  });

  it('delay resolves', async () => {
    const start = Date.now();
    await delay(20);
    assert.ok(Date.now() - start >= 15);
  });
});

type Message = { id: number; ms: number } | { cancel: number };

/** A stand-in for a dedicated worker: records messages; the test posts the ticks back. */
class FakeWorker {
  static created: FakeWorker[] = [];
  static throwOnCreate: Error | undefined;
  throwOnPost = false;
  readonly messages: Message[] = [];
  onmessage: ((event: { data: number }) => void) | null = null;
  onerror: ((event: { preventDefault(): void }) => void) | null = null;
  onmessageerror: (() => void) | null = null;
  terminated = false;

  constructor(
    readonly url: string,
    readonly options: unknown,
  ) {
    if (FakeWorker.throwOnCreate !== undefined) throw FakeWorker.throwOnCreate;
    FakeWorker.created.push(this);
  }
  postMessage(message: Message): void {
    assert.equal(this.terminated, false, 'no message to a terminated worker');
    if (this.throwOnPost) throw new Error('DataCloneError');
    this.messages.push(message);
  }
  terminate(): void {
    this.terminated = true;
  }
  /** The worker's timer `id` fired. */
  tick(id: number): void {
    this.onmessage?.({ data: id });
  }
  /** The ids of the timers started (in order). */
  get started(): number[] {
    return this.messages.flatMap((m) => ('id' in m ? [m.id] : []));
  }
}

class FakeBlob {
  constructor(
    readonly parts: string[],
    readonly options: { type: string },
  ) {}
}

describe('ticker in a browser page (fake Worker)', () => {
  const g = globalThis as Record<string, unknown>;
  const saved = {
    document: Object.getOwnPropertyDescriptor(g, 'document'),
    Worker: Object.getOwnPropertyDescriptor(g, 'Worker'),
    Blob: Object.getOwnPropertyDescriptor(g, 'Blob'),
    create: Object.getOwnPropertyDescriptor(URL, 'createObjectURL'),
    revoke: Object.getOwnPropertyDescriptor(URL, 'revokeObjectURL'),
  };
  let urls: string[] = [];
  let revoked: string[] = [];

  beforeEach(() => {
    FakeWorker.created = [];
    FakeWorker.throwOnCreate = undefined;
    urls = [];
    revoked = [];
    const define = (target: object, key: string, value: unknown): void => {
      Object.defineProperty(target, key, { value, configurable: true, writable: true });
    };
    define(g, 'document', {});
    define(g, 'Worker', FakeWorker);
    define(g, 'Blob', FakeBlob);
    define(URL, 'createObjectURL', (blob: FakeBlob) => {
      assert.ok(blob instanceof FakeBlob);
      assert.equal(blob.options.type, 'text/javascript');
      const url = `blob:fake/${String(urls.length)}`;
      urls.push(url);
      return url;
    });
    define(URL, 'revokeObjectURL', (url: string) => {
      revoked.push(url);
    });
  });

  afterEach(() => {
    const restore = (target: object, key: string, d: PropertyDescriptor | undefined): void => {
      if (d === undefined) Reflect.deleteProperty(target, key);
      else Object.defineProperty(target, key, d);
    };
    restore(g, 'document', saved.document);
    restore(g, 'Worker', saved.Worker);
    restore(g, 'Blob', saved.Blob);
    restore(URL, 'createObjectURL', saved.create);
    restore(URL, 'revokeObjectURL', saved.revoke);
  });

  it('detects the page and creates one worker lazily, for all timers', () => {
    assert.equal(canUseWorkerTimers(), true);
    const ticker = createTicker();
    assert.equal(FakeWorker.created.length, 0, 'no worker before the first timer');
    ticker.setTimer(() => undefined, 100);
    ticker.setTimer(() => undefined, 200);
    assert.equal(FakeWorker.created.length, 1);
    const worker = FakeWorker.created[0]!;
    assert.equal(worker.url, urls[0]);
    assert.deepEqual(worker.messages, [
      { id: 1, ms: 100 },
      { id: 2, ms: 200 },
    ]);
  });

  it('routes ticks through the worker; clearTimer posts a cancel; late ticks are ignored', () => {
    const ticker = createTicker();
    const fired: string[] = [];
    const a = ticker.setTimer(() => fired.push('a'), 10);
    const b = ticker.setTimer(() => fired.push('b'), 20);
    const worker = FakeWorker.created[0]!;
    const [idA, idB] = worker.started;
    ticker.clearTimer(b);
    assert.deepEqual(worker.messages.at(-1), { cancel: idB });
    worker.tick(idA!);
    worker.tick(idB!); // posted before the cancel arrived
    worker.tick(idA!); // a duplicate
    assert.deepEqual(fired, ['a']);
    ticker.clearTimer(a); // already fired: nothing to cancel
    assert.equal(
      worker.messages.filter((m) => 'cancel' in m).length,
      1,
      'no cancel for a fired timer',
    );
  });

  it('chained timers (a heart-beat loop) keep one worker', () => {
    const ticker = createTicker();
    let beats = 0;
    const beat = (): void => {
      beats++;
      ticker.setTimer(beat, 100);
    };
    ticker.setTimer(beat, 100);
    const worker = FakeWorker.created[0]!;
    for (let i = 0; i < 5; i++) worker.tick(worker.started.at(-1)!);
    assert.equal(beats, 5);
    assert.equal(FakeWorker.created.length, 1);
    assert.equal(worker.terminated, false);
  });

  it('terminates the idle worker after a linger and revokes its URL; the next timer starts another', () => {
    const ticker = createTicker();
    let fired = 0;
    ticker.setTimer(() => fired++, 10);
    const worker = FakeWorker.created[0]!;
    worker.tick(1);
    assert.equal(fired, 1);
    const linger = worker.messages.at(-1);
    assert.ok(linger !== undefined && 'id' in linger && linger.id === 0, 'a linger timer (id 0)');
    assert.equal(worker.terminated, false, 'kept for a while');
    worker.tick(0);
    assert.equal(worker.terminated, true);
    assert.deepEqual(revoked, [worker.url]);

    ticker.setTimer(() => fired++, 10);
    assert.equal(FakeWorker.created.length, 2);
    const next = FakeWorker.created[1]!;
    next.tick(next.started[0]!);
    assert.equal(fired, 2);
  });

  it('a linger that fires while a timer is pending keeps the worker', () => {
    const ticker = createTicker();
    const first = ticker.setTimer(() => undefined, 10);
    ticker.clearTimer(first); // idle: linger armed
    const worker = FakeWorker.created[0]!;
    let fired = 0;
    ticker.setTimer(() => fired++, 10);
    worker.tick(0);
    assert.equal(worker.terminated, false);
    worker.tick(worker.started.at(-1)!);
    assert.equal(fired, 1);
  });

  it('delay resolves through the worker', async () => {
    const ticker = createTicker();
    let resolved = false;
    const done = delay(1000, ticker).then(() => {
      resolved = true;
    });
    const worker = FakeWorker.created[0]!;
    assert.deepEqual(worker.messages, [{ id: 1, ms: 1000 }]);
    await sleep(5);
    assert.equal(resolved, false);
    worker.tick(1);
    await done;
    assert.equal(resolved, true);
  });

  it('falls back to setTimeout when the Worker constructor throws (CSP), for later timers too', async () => {
    FakeWorker.throwOnCreate = new Error('SecurityError: worker-src');
    const ticker = createTicker();
    const fired: string[] = [];
    ticker.setTimer(() => fired.push('a'), 5);
    const cancelled = ticker.setTimer(() => fired.push('x'), 5);
    ticker.clearTimer(cancelled);
    FakeWorker.throwOnCreate = undefined; // not retried: the page's policy will not change
    ticker.setTimer(() => fired.push('b'), 10);
    assert.equal(FakeWorker.created.length, 0);
    assert.deepEqual(revoked, urls, 'the Blob URL of the failed attempt is revoked');
    await sleep(60);
    assert.deepEqual(fired, ['a', 'b']);
  });

  it('an error from the worker moves the pending timers to setTimeout: none is lost', (t) => {
    // Mocked clock: what is left of each timer does not depend on how busy the machine is.
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
    const ticker = createTicker();
    const fired: string[] = [];
    ticker.setTimer(() => fired.push('a'), 20);
    const cancelled = ticker.setTimer(() => fired.push('x'), 20);
    ticker.setTimer(() => fired.push('b'), 0);
    ticker.clearTimer(cancelled);
    const worker = FakeWorker.created[0]!;
    let prevented = false;
    worker.onerror?.({
      preventDefault() {
        prevented = true;
      },
    });
    assert.equal(prevented, true);
    assert.equal(worker.terminated, true);
    assert.deepEqual(revoked, [worker.url]);
    worker.tick(1); // a tick racing the error is not delivered twice
    ticker.setTimer(() => fired.push('c'), 30);
    const later = ticker.setTimer(() => fired.push('y'), 10);
    ticker.clearTimer(later);
    assert.equal(FakeWorker.created.length, 1, 'no new worker after a failure');
    t.mock.timers.tick(100);
    assert.deepEqual(fired, ['b', 'a', 'c']);
  });

  it('a postMessage that throws is a failure: that timer and the pending ones fire once', async () => {
    const ticker = createTicker();
    const fired: string[] = [];
    ticker.setTimer(() => fired.push('a'), 5);
    const worker = FakeWorker.created[0]!;
    worker.throwOnPost = true;
    ticker.setTimer(() => fired.push('b'), 10);
    assert.equal(worker.terminated, true);
    const cancelled = ticker.setTimer(() => fired.push('x'), 5);
    ticker.clearTimer(cancelled);
    await sleep(60);
    assert.deepEqual(fired, ['a', 'b']);
  });

  it('a messageerror is a failure too', async () => {
    const ticker = createTicker();
    let fired = 0;
    ticker.setTimer(() => fired++, 1);
    FakeWorker.created[0]!.onmessageerror?.();
    await sleep(30);
    assert.equal(fired, 1);
  });
});
