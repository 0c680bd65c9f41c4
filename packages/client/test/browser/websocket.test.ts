// The browser entry point in a real headless Chromium (Debian's /usr/bin/chromium driven by
// playwright-core; no browser download, no bundler): a local HTTP server on 127.0.0.1, port 0,
// serves the compiled ESM of @stompede/core and @stompede/client with an import map, and the page
// talks to our broker's WebSocket listener with the browser's own WebSocket. Skipped with a
// reason when Chromium or playwright-core is missing, unless STOMPEDE_BROWSER=1 makes that a
// failure.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it, type TestContext } from 'node:test';
import { type Broker, createBroker } from '@stompede/broker';
import { connect, nodeTransport } from '@stompede/client/node';
import { uniqueQueue } from '../scenarios.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const required = process.env.STOMPEDE_BROWSER === '1';
const require = createRequire(import.meta.url);

/** The dist folders the page imports from, by URL prefix. */
const roots: Record<string, string> = {
  '/core/': dirname(require.resolve('@stompede/core')),
  '/client/': dirname(require.resolve('@stompede/client')),
};

const page = `<!doctype html>
<html>
  <head>
    <meta charset="utf-8" />
    <script type="importmap">
      {
        "imports": {
          "@stompede/core": "/core/index.js",
          "@stompede/core/internal": "/core/internal.js",
          "@stompede/client": "/client/index.js"
        }
      }
    </script>
  </head>
  <body>
    stompede client test page
  </body>
</html>`;

function serve(): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0]!);
    if (path === '/') {
      res.writeHead(200, { 'content-type': 'text/html' }).end(page);
      return;
    }
    const prefix = Object.keys(roots).find((p) => path.startsWith(p));
    const root = prefix === undefined ? undefined : roots[prefix];
    const file = root === undefined ? undefined : normalize(join(root, path.slice(prefix!.length)));
    if (file === undefined || !file.startsWith(root! + sep) || extname(file) !== '.js') {
      res.writeHead(404).end();
      return;
    }
    readFile(file).then(
      (body) => res.writeHead(200, { 'content-type': 'text/javascript' }).end(body),
      () => res.writeHead(404).end(),
    );
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      resolve({ server, url: `http://127.0.0.1:${String(port)}/` });
    });
  });
}

/** What the heart-beat page reports after its main-thread timers were stubbed out. */
interface StubbedResult {
  state: string;
  events: string[];
  text: string | undefined;
}

/** What the page reports back. */
interface PageResult {
  version: string | undefined;
  text: string;
  contentType: string | undefined;
  bytes: number[];
  acked: boolean;
  asyncDisposeKeys: string[];
  state: string;
}

describe('the client in headless Chromium', () => {
  let skip: string | undefined;
  let broker: Broker | undefined;
  let wsUrl = '';
  let http: { server: Server; url: string } | undefined;
  let browser: import('playwright-core').Browser | undefined;

  before(async () => {
    if (!existsSync(CHROMIUM)) {
      skip = `no Chromium at ${CHROMIUM} (apt-get install -y chromium)`;
      return;
    }
    let chromium: typeof import('playwright-core').chromium;
    try {
      ({ chromium } = await import('playwright-core'));
    } catch {
      skip = 'playwright-core is not installed (npm install -D playwright-core)';
      return;
    }
    broker = createBroker({ listeners: [{ protocol: 'ws', port: 0 }] });
    const [ws] = await broker.listen();
    wsUrl = `ws://127.0.0.1:${String(ws!.port)}${ws!.path ?? '/ws'}`;
    http = await serve();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });
  after(async () => {
    await browser?.close();
    http?.server.close();
    await broker?.close();
  });

  const check = (t: TestContext): boolean => {
    if (skip === undefined) return true;
    if (required) assert.fail(`the browser test is required (STOMPEDE_BROWSER=1): ${skip}`);
    t.skip(skip);
    return false;
  };

  it('[WebSocket] connects with the browser WebSocket, sends, subscribes, receives a binary body and acks', async (t) => {
    if (!check(t)) return;
    const tab = await browser!.newPage();
    const errors: string[] = [];
    tab.on('pageerror', (err) => errors.push(err.message));
    await tab.goto(http!.url);
    const q = uniqueQueue('browser');
    const result = await tab.evaluate(
      async ({ url, q }): Promise<PageResult> => {
        // Runs in the page: bare specifiers resolve through the import map.
        const specifier = '@stompede/client';
        const lib = (await import(specifier)) as typeof import('@stompede/client');
        const client = await lib.connect(url, { heartBeat: [0, 0] });
        const sub = await client.subscribe(q, { ack: 'client-individual', receipt: true });
        await client.send(q, 'text from the page', { receipt: true });
        await client.send(q, Uint8Array.of(0, 255, 0, 128, 0), { receipt: true });
        const first = await sub.receive({ timeout: 10000 });
        const second = await sub.receive({ timeout: 10000 });
        if (first === undefined || second === undefined) throw new Error('no message');
        await first.ack({ receipt: true });
        await second.ack({ receipt: true });
        const keys = Object.getOwnPropertyNames(Object.getPrototypeOf(client) as object).filter(
          (k) => k === 'undefined',
        );
        const version = client.version;
        await client.close();
        return {
          version,
          text: first.text,
          contentType: first.contentType,
          bytes: Array.from(second.body),
          acked: first.settled && second.settled,
          asyncDisposeKeys: keys,
          state: client.state,
        };
      },
      { url: wsUrl, q },
    );
    await tab.close();
    assert.deepEqual(errors, []);
    assert.equal(result.version, '1.2');
    assert.equal(result.text, 'text from the page');
    assert.equal(result.contentType, 'text/plain;charset=utf-8');
    assert.deepEqual(result.bytes, [0, 255, 0, 128, 0]);
    assert.equal(result.acked, true);
    assert.deepEqual(result.asyncDisposeKeys, [], 'no method under an "undefined" key');
    assert.equal(result.state, 'closed');

    // The acks reached the broker: nothing is redelivered to the next subscriber.
    const client = await connect(wsUrl, {
      heartBeat: [0, 0],
      transport: nodeTransport({
        WebSocket: (await import('ws'))
          .WebSocket as unknown as import('@stompede/client').WebSocketConstructor,
      }),
    });
    const sub = await client.subscribe(q, { ack: 'client-individual', receipt: true });
    await client.send(q, 'marker', { receipt: true });
    const next = await sub.receive({ timeout: 10000 });
    assert.equal(next?.text, 'marker');
    await client.close();
  });
  it('[WebSocket] each frame is one message, large text and binary bodies whole', async (t) => {
    if (!check(t)) return;
    const tab = await browser!.newPage();
    await tab.goto(http!.url);
    const q = uniqueQueue('browser-large');
    // The browser's own WebSocket, no STOMP client: what arrives is what the broker sent. Bodies
    // over 8 KiB go out from where the broker holds them, written as one WebSocket frame.
    const got = await tab.evaluate(
      async ({ url, q }) => {
        const ws = new WebSocket(url, ['v12.stomp']);
        ws.binaryType = 'arraybuffer';
        const messages: (string | ArrayBuffer)[] = [];
        const closed = new Promise<void>((resolve) => {
          ws.onclose = () => {
            resolve();
          };
        });
        ws.onmessage = (e: MessageEvent<string | ArrayBuffer>) => {
          messages.push(e.data);
          if (messages.length === 5) ws.close();
        };
        await new Promise((resolve) => (ws.onopen = resolve));
        const text = 'é'.repeat(50_000);
        const binary = new Uint8Array(150_000).map((_, i) => (i * 7) & 0xff);
        const head = (n: number) =>
          `SEND\ndestination:${q}\ncontent-length:${String(n)}\nreceipt:s${String(n)}\n\n`;
        ws.send('CONNECT\naccept-version:1.2\nhost:/\nheart-beat:0,0\n\n\0');
        ws.send(`SUBSCRIBE\nid:1\ndestination:${q}\n\n\0`);
        ws.send(`${head(100_000)}${text}\0`);
        const bin = new Uint8Array([
          ...new TextEncoder().encode(head(binary.length)),
          ...binary,
          0,
        ]);
        ws.send(bin);
        // A deadline, so that a missing message fails the assertions below instead of hanging.
        const deadline = setTimeout(() => {
          ws.close();
        }, 20_000);
        await closed;
        clearTimeout(deadline);
        return messages.map((m) =>
          typeof m === 'string' ? { text: m } : { bytes: Array.from(new Uint8Array(m)) },
        );
      },
      { url: wsUrl, q },
    );
    await tab.close();
    const frames = got.map((m) =>
      m.text !== undefined ? Buffer.from(m.text) : Buffer.from(m.bytes),
    );
    // CONNECTED, two MESSAGEs and two RECEIPTs: one whole frame per message, its NUL (after
    // content-length bytes of body, when there is one) followed by an EOL and nothing else.
    assert.equal(got.length, 5, frames.map((f) => f.subarray(0, 40).toString()).join(' | '));
    for (const frame of frames) {
      const headEnd = frame.indexOf('\n\n') + 2;
      const length = /\ncontent-length:(\d+)\n/.exec(frame.subarray(0, headEnd).toString());
      const nul = length === null ? frame.indexOf(0) : headEnd + Number(length[1]);
      assert.equal(nul, frame.length - 2, 'one frame');
      assert.equal(frame.subarray(nul).toString(), '\0\n');
    }
    const messages = got.filter((_, i) => frames[i]!.subarray(0, 8).toString() === 'MESSAGE\n');
    assert.equal(messages.length, 2);
    const text = messages.find((m) => m.text !== undefined)!.text;
    assert.ok(text.endsWith(`\n\n${'é'.repeat(50_000)}\0\n`), 'the text body, as a text message');
    const bytes = Buffer.from(messages.find((m) => m.bytes !== undefined)!.bytes);
    const body = bytes.subarray(bytes.indexOf('\n\n') + 2, bytes.length - 2);
    assert.equal(body.length, 150_000);
    assert.ok(
      body.every((b, i) => b === ((i * 7) & 0xff)),
      'the binary body, as a binary message',
    );
  });

  // Heart-beats must not depend on main-thread timers, which a background tab throttles to one a
  // second (one a minute after five minutes hidden). A broker that wants a client heart-beat
  // every 100 ms and closes after 500 ms of silence; the page replaces window.setTimeout and
  // setInterval with stubs that never fire and idles for 1.5 s. With the worker ticker the
  // connection survives; the control (no Worker in the page: main-thread timers) is dropped.
  describe('heart-beats with main-thread timers stubbed out', () => {
    const period = 100;
    let hbBroker: Broker | undefined;
    let hbUrl = '';
    before(async () => {
      if (skip !== undefined) return;
      hbBroker = createBroker({
        listeners: [{ protocol: 'ws', port: 0 }],
        heartbeat: [0, period],
        heartbeatGrace: 5,
      });
      const [ws] = await hbBroker.listen();
      hbUrl = `ws://127.0.0.1:${String(ws!.port)}${ws!.path ?? '/ws'}`;
    });
    after(async () => {
      await hbBroker?.close();
    });

    /** Connect in a fresh page, stub the timers, idle 1.5 s, then try a round trip. */
    const run = async (withWorker: boolean): Promise<StubbedResult> => {
      const tab = await browser!.newPage();
      const errors: string[] = [];
      tab.on('pageerror', (err) => errors.push(err.message));
      try {
        await tab.goto(http!.url);
        const q = uniqueQueue('browser-hb');
        await tab.evaluate(
          async ({ url, q, period, withWorker }) => {
            const w = window as unknown as Record<string, unknown>;
            if (!withWorker) Reflect.deleteProperty(window, 'Worker');
            const specifier = '@stompede/client';
            const lib = (await import(specifier)) as typeof import('@stompede/client');
            const client = await lib.connect(url, { heartBeat: [period, 0] });
            const events: string[] = [];
            client.on('disconnected', () => events.push('disconnected'));
            client.on('closed', () => events.push('closed'));
            const sub = await client.subscribe(q, { receipt: true });
            // From here on no main-thread timer ever fires. The page keeps the real setTimeout
            // for its own guard only.
            w.realSetTimeout = window.setTimeout.bind(window);
            window.setTimeout = (() => 0) as unknown as typeof window.setTimeout;
            window.setInterval = (() => 0) as unknown as typeof window.setInterval;
            Object.assign(w, { client, sub, events, q });
          },
          { url: hbUrl, q, period, withWorker },
        );
        await sleep(1500);
        return await tab.evaluate(async (): Promise<StubbedResult> => {
          const w = window as unknown as {
            client: import('@stompede/client').Client;
            sub: import('@stompede/client').Subscription;
            events: string[];
            q: string;
            realSetTimeout: typeof setTimeout;
          };
          const { client, sub, events, q } = w;
          const state = client.state;
          if (state !== 'connected') return { state, events, text: undefined };
          const roundTrip = (async () => {
            await client.send(q, 'still here');
            return (await sub.receive())?.text;
          })();
          const guard = new Promise<string>((resolve) => {
            w.realSetTimeout(() => {
              resolve('no round trip within 10 s');
            }, 10000);
          });
          const text = await Promise.race([roundTrip, guard]);
          return { state: client.state, events, text };
        });
      } finally {
        await tab.close();
        assert.deepEqual(errors, []);
      }
    };

    it('[WebSocket] keeps sending heart-beats from the worker ticker: the broker keeps the connection', async (t) => {
      if (!check(t)) return;
      const before = hbBroker!.metrics.heartbeatsIn;
      const result = await run(true);
      assert.deepEqual(result, { state: 'connected', events: [], text: 'still here' });
      // Surviving 1.5 s with a 500 ms limit takes at least two beats; about 15 are expected.
      assert.ok(
        hbBroker!.metrics.heartbeatsIn - before >= 2,
        `${String(hbBroker!.metrics.heartbeatsIn - before)} heart-beats arrived`,
      );
    });

    it('[WebSocket] control: without Worker the main-thread timers are stubbed and the broker drops the client', async (t) => {
      if (!check(t)) return;
      const result = await run(false);
      assert.equal(result.state, 'closed');
      assert.deepEqual(result.events, ['disconnected', 'closed']);
    });
  });
});
