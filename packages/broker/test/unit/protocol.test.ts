import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { ErrorCode } from '@stompede/core';
import { TestClock, connected, eventually, memoryBroker, pair } from '../helper.js';

describe('connecting', () => {
  const broker = memoryBroker({ heartbeat: [5000, 60_000] });
  after(() => broker.close());

  test('[1.2 CONNECTED Frame] version, session, server and heart-beat headers', async () => {
    const p = pair(broker);
    const f = await p.connect({ 'accept-version': '1.0,1.1,1.2', host: '/', 'heart-beat': '0,0' });
    assert.equal(f.header('version'), '1.2');
    assert.ok(f.header('session'));
    assert.match(f.header('server') ?? '', /^stompede\//);
    // The client wants no beats either way: none are offered.
    assert.equal(f.header('heart-beat'), '0,0');
    p.close();
  });

  test('[1.2 Heart-beating] the broker answers the periods the client asks for, within its bounds', async () => {
    const p = pair(broker);
    const f = await p.connect({ 'accept-version': '1.2', host: '/', 'heart-beat': '6000,7000' });
    assert.equal(f.header('heart-beat'), '7000,6000');
    p.close();
    // Faster than the floor (here 5 s): the floor.
    const q = pair(broker);
    const g = await q.connect({ 'accept-version': '1.2', host: '/', 'heart-beat': '1000,0' });
    assert.equal(g.header('heart-beat'), '0,5000');
    q.close();
  });

  test('[1.2 Heart-beating] by default a client asking for 1 s beats gets 1 s, and 100 ms gets 1 s', async () => {
    const b = memoryBroker();
    after(() => b.close());
    const p = pair(b);
    const f = await p.connect({ 'accept-version': '1.2', host: '/', 'heart-beat': '1000,1000' });
    assert.equal(f.header('heart-beat'), '1000,1000');
    p.close();
    const q = pair(b);
    const g = await q.connect({ 'accept-version': '1.2', host: '/', 'heart-beat': '100,100' });
    assert.equal(g.header('heart-beat'), '1000,1000');
    q.close();
  });

  test('[1.0] no heart-beats in STOMP 1.0, whatever the header says', async () => {
    const p = pair(broker);
    const f = await p.connect({ 'heart-beat': '5000,5000' });
    assert.equal(f.header('heart-beat'), undefined);
    p.close();
  });

  test('[1.2 STOMP Frame] STOMP is handled like CONNECT', async () => {
    const p = pair(broker);
    p.send('STOMP', { 'accept-version': '1.1', host: '/' });
    const f = await p.next('CONNECTED');
    assert.equal(f.header('version'), '1.1');
    p.close();
  });

  test('[1.1 Protocol Negotiation] no accept-version means STOMP 1.0', async () => {
    const p = pair(broker);
    const f = await p.connect({ login: 'x' });
    // Said explicitly (clients written against ActiveMQ/RabbitMQ expect it; 1.0 allows it).
    assert.equal(f.header('version'), '1.0');
    assert.ok(f.header('session'));
    p.close();
  });

  test('[1.2 Protocol Negotiation] no common version: ERROR listing versions, then close', async () => {
    const p = pair(broker);
    p.send('CONNECT', { 'accept-version': '2.0,3.1', host: '/' });
    const f = await p.error(ErrorCode.UNSUPPORTED_VERSION);
    assert.equal(f.header('version'), '1.0,1.1,1.2');
    assert.match(f.text, /1\.0 1\.1 1\.2/);
    await p.ended;
  });

  test('[1.2 Connecting] the first frame must be CONNECT or STOMP', async () => {
    const p = pair(broker);
    p.send('SEND', { destination: '/queue/x', receipt: 'r1' }, 'hi');
    const f = await p.error(ErrorCode.UNEXPECTED_FRAME);
    assert.equal(f.header('receipt-id'), 'r1');
    assert.ok(f.header('message'));
    await p.ended;
  });

  test('[1.2 Connecting] a second CONNECT is an error', async () => {
    const p = await connected(broker);
    p.send('CONNECT', { 'accept-version': '1.2', host: '/' });
    await p.error(ErrorCode.UNEXPECTED_FRAME);
    await p.ended;
  });

  test('[1.2 Heart-beating] malformed heart-beat is an error', async () => {
    const p = pair(broker);
    p.send('CONNECT', { 'accept-version': '1.2', host: '/', 'heart-beat': 'x,1' });
    const f = await p.error(ErrorCode.INVALID_HEARTBEAT);
    assert.match(f.header('message') ?? '', /heart-beat/);
  });
});

describe('virtual hosts', () => {
  const broker = memoryBroker({ vhosts: ['a', 'b'], defaultVhost: 'a' });
  after(() => broker.close());

  test('[1.2 CONNECT host] the host header selects a virtual host; queues are per host', async () => {
    const pa = await connected(broker, { 'accept-version': '1.2', host: 'a' });
    const pb = await connected(broker, { 'accept-version': '1.2', host: 'b' });
    await pa.sendSync('SEND', { destination: '/queue/v' }, 'for-a');
    await pb.sendSync('SUBSCRIBE', { id: '1', destination: '/queue/v' });
    await pa.sendSync('SUBSCRIBE', { id: '1', destination: '/queue/v' });
    const [m] = await pa.messages(1);
    assert.equal(m!.text, 'for-a');
    assert.equal(pb.frames.filter((f) => f.command === 'MESSAGE').length, 0);
    pa.close();
    pb.close();
  });

  test('[1.2 CONNECT host] an unknown host is refused', async () => {
    const p = pair(broker);
    p.send('CONNECT', { 'accept-version': '1.2', host: 'nope' });
    const f = await p.error(ErrorCode.FORBIDDEN);
    assert.match(f.header('message') ?? '', /virtual host/);
    await p.ended;
  });
});

describe('frames and errors', () => {
  const broker = memoryBroker();
  after(() => broker.close());

  test('[1.2 RECEIPT] every frame with a receipt header gets a RECEIPT', async () => {
    const p = await connected(broker);
    p.send('SUBSCRIBE', { id: 's', destination: '/queue/r1', receipt: 'a' });
    p.send('SEND', { destination: '/queue/r2', receipt: 'b' }, 'x');
    p.send('BEGIN', { transaction: 't', receipt: 'c' });
    p.send('ABORT', { transaction: 't', receipt: 'd' });
    p.send('UNSUBSCRIBE', { id: 's', receipt: 'e' });
    for (const id of ['a', 'b', 'c', 'd', 'e']) {
      assert.equal((await p.next('RECEIPT')).header('receipt-id'), id);
    }
    p.close();
  });

  test('[1.2 ERROR] a malformed frame: ERROR with message and receipt-id, later frames ignored, close', async () => {
    const p = await connected(broker);
    // SEND without destination, then a valid SEND that must not be processed.
    p.raw('SEND\nreceipt:bad\n\nx\0SEND\ndestination:/queue/after-error\n\nlost\0');
    const f = await p.error(ErrorCode.MISSING_HEADER);
    assert.equal(f.header('receipt-id'), 'bad');
    assert.match(f.header('message') ?? '', /destination/);
    await p.ended;
    const q = await connected(broker);
    await q.sendSync('SUBSCRIBE', { id: '1', destination: '/queue/after-error' });
    await q.sendSync('SEND', { destination: '/queue/after-error' }, 'marker');
    const [m] = await q.messages(1);
    assert.equal(m!.text, 'marker');
    q.close();
  });

  test('[1.2 ERROR] a frame too malformed to parse still gets its receipt-id', async () => {
    // The receipt header comes before a header with an escape 1.2 does not define.
    const p = await connected(broker);
    p.raw('SEND\ndestination:/queue/esc\nreceipt:r1\nbad:a\\tb\n\nx\0');
    const e = await p.error(ErrorCode.INVALID_ESCAPE);
    assert.equal(e.header('receipt-id'), 'r1');
    await p.ended;
    // A head that parsed, with a body over the limit.
    const q = await connected(broker);
    q.raw('SEND\ndestination:/queue/big\nreceipt:r\\c2\ncontent-length:67108865\n\n');
    const f = await q.error(ErrorCode.BODY_TOO_LARGE);
    assert.equal(f.header('receipt-id'), 'r:2');
    await q.ended;
  });

  test('[1.2 ERROR] bytes that are not STOMP get an ERROR and a close', async () => {
    const p = await connected(broker);
    p.raw('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    const f = await p.error(ErrorCode.INVALID_COMMAND);
    assert.ok(f.header('message'));
    await p.ended;
  });

  test('[1.2 SUBSCRIBE id] a duplicate subscription id is an error', async () => {
    const p = await connected(broker);
    p.send('SUBSCRIBE', { id: 'x', destination: '/queue/d1' });
    p.send('SUBSCRIBE', { id: 'x', destination: '/queue/d2' });
    const f = await p.error(ErrorCode.DUPLICATE_SUBSCRIPTION);
    assert.match(f.header('message') ?? '', /already in use/);
    await p.ended;
  });

  test('[1.2 UNSUBSCRIBE] an unknown subscription id is an error', async () => {
    const p = await connected(broker);
    p.send('UNSUBSCRIBE', { id: 'nope' });
    await p.error(ErrorCode.UNKNOWN_SUBSCRIPTION);
    await p.ended;
  });

  test('[1.2 ACK] an unknown ack id is an error', async () => {
    const p = await connected(broker);
    p.send('ACK', { id: 'nope' });
    await p.error(ErrorCode.INVALID_HEADER_VALUE);
    await p.ended;
  });

  test('[1.2 NACK] an unknown id is an error', async () => {
    const p = await connected(broker);
    p.send('NACK', { id: 'nope' });
    await p.error(ErrorCode.INVALID_HEADER_VALUE);
    await p.ended;
  });

  test('[1.2 SEND] an unknown destination prefix is an error', async () => {
    const p = await connected(broker);
    p.send('SEND', { destination: 'nowhere' }, 'x');
    const f = await p.error(ErrorCode.INVALID_HEADER_VALUE);
    assert.match(f.header('message') ?? '', /unknown destination/);
  });

  test('[1.2 DISCONNECT] the RECEIPT comes after everything before it, then the close', async () => {
    const p = await connected(broker);
    const c = await connected(broker);
    await c.sendSync('SUBSCRIBE', { id: '1', destination: '/queue/disc' });
    for (let i = 0; i < 50; i++) p.send('SEND', { destination: '/queue/disc' }, String(i));
    p.send('DISCONNECT', { receipt: 'bye' });
    assert.equal((await p.next('RECEIPT')).header('receipt-id'), 'bye');
    await p.ended;
    const ms = await c.messages(50);
    assert.deepEqual(
      ms.map((m) => m.text),
      Array.from({ length: 50 }, (_, i) => String(i)),
    );
    c.close();
  });

  test('[1.1 Value Encoding] escaped headers round-trip through a SEND', async () => {
    // Every version this broker speaks can escape a line feed and a colon.
    const modern = memoryBroker({ versions: ['1.1', '1.2'] });
    after(() => modern.close());
    const p = await connected(modern);
    await p.sendSync('SUBSCRIBE', { id: '1', destination: '/queue/esc' });
    await p.sendSync('SEND', { destination: '/queue/esc', 'x-k:ey': 'a:b\nc\\d' }, 'x');
    const [m] = await p.messages(1);
    assert.equal(m!.header('x-k:ey'), 'a:b\nc\\d');
    p.close();
  });

  test('[1.0 Frames] a header a 1.0 subscriber could not be given is refused at SEND', async () => {
    // 1.0 escapes nothing: a line feed in a value, or a colon in a name, cannot be written in a
    // 1.0 MESSAGE, so a broker that speaks 1.0 refuses it with the SEND (never drops it later).
    const p = await connected(broker);
    p.send('SEND', { destination: '/queue/esc10', receipt: 'r1', 'x-k': 'a\nb' }, 'x');
    const e = await p.error(ErrorCode.INVALID_HEADER_VALUE);
    assert.equal(e.header('receipt-id'), 'r1');
    assert.match(e.header('message') ?? '', /x-k.*line feed/);
    const q = await connected(broker);
    q.send('SEND', { destination: '/queue/esc10', 'x:k': 'v' }, 'x');
    await q.error(ErrorCode.INVALID_HEADER_VALUE);
  });

  test('[1.2 RECEIPT] a receipt its RECEIPT could not carry is refused before the frame takes effect', async () => {
    const p = await connected(broker, { 'accept-version': '1.1', host: '/' });
    // 1.1 cannot escape a trailing CR: the receipt-id could not be written back.
    p.raw('SEND\ndestination:/queue/receipt11\nreceipt:r\r\r\n\nx\0');
    const e = await p.error(ErrorCode.INVALID_HEADER_VALUE);
    assert.equal(e.header('receipt-id'), undefined);
    assert.match(e.header('message') ?? '', /receipt/);
    await p.ended;
    const q = await connected(broker);
    q.send('SUBSCRIBE', { id: 's', destination: '/queue/receipt11' });
    await q.sendSync('SEND', { destination: '/queue/receipt11' }, 'only');
    assert.deepEqual(
      (await q.messages(1)).map((m) => m.text),
      ['only'],
    );
    q.close();
  });

  test('[1.2 SUBSCRIBE] a subscription id that cannot be written in MESSAGE frames is refused', async () => {
    const p = await connected(broker, { 'accept-version': '1.1', host: '/' });
    // 1.1 cannot escape a trailing CR.
    p.raw('SUBSCRIBE\nid:a\r\r\ndestination:/queue/esc11\nreceipt:r2\n\n\0');
    const e = await p.error(ErrorCode.INVALID_HEADER_VALUE);
    assert.equal(e.header('receipt-id'), 'r2');
  });
});

describe('timeouts (on an injected clock: exact, no sleeps)', () => {
  const hb12 = (heartBeat: string) => ({
    'accept-version': '1.2',
    host: '/',
    'heart-beat': heartBeat,
  });

  test('[1.2 Heart-beating] the server sends heart-beats at the negotiated rate', async () => {
    const clock = new TestClock();
    const broker = memoryBroker({ heartbeat: [20, 20], clock });
    after(() => broker.close());
    const p = await connected(broker, hb12('0,20'));
    // Every frame ends with NUL and one LF (as RabbitMQ sends them): any EOL beyond those is a beat.
    const beats = () => p.heartbeats - p.frames.length;
    clock.advance(19);
    await p.sendSync('SUBSCRIBE', { destination: '/queue/hb-rate', id: 's' });
    assert.equal(beats(), 0);
    // The RECEIPT was the last write: the next beat is due 20 ms after it.
    for (let n = 1; n <= 3; n++) {
      clock.advance(20);
      await p.until(() => beats() >= n);
    }
    assert.equal(beats(), 3);
    p.close();
  });

  test('[1.2 Heart-beating] no beats are sent when the client wants none', async () => {
    const clock = new TestClock();
    const broker = memoryBroker({ heartbeat: [20, 20], clock });
    after(() => broker.close());
    const p = await connected(broker, hb12('0,0'));
    clock.advance(1000);
    await p.sendSync('SEND', { destination: '/queue/hb' }, 'x');
    assert.equal(p.heartbeats, p.frames.length);
    assert.equal(clock.pending, 0);
    p.close();
  });

  test('[1.2 Heart-beating] a silent client is closed after interval x grace, not before', async () => {
    const clock = new TestClock();
    const broker = memoryBroker({ heartbeat: [20, 20], heartbeatGrace: 1.5, clock });
    after(() => broker.close());
    const p = await connected(broker, hb12('20,0'));
    clock.advance(29);
    assert.equal(broker.connections, 1);
    clock.advance(1);
    await p.ended;
    assert.equal(broker.connections, 0);
  });

  test('[1.2 Heart-beating] a client that beats stays connected', async () => {
    const clock = new TestClock();
    const broker = memoryBroker({ heartbeat: [30, 30], heartbeatGrace: 1.5, clock });
    after(() => broker.close());
    const p = await connected(broker, hb12('30,0'));
    // Ten periods of 40 ms, each under the 45 ms allowed, each ended by a beat the broker read.
    for (let n = 1; n <= 10; n++) {
      clock.advance(40);
      p.raw('\n');
      await eventually(() => broker.metrics.heartbeatsIn >= n, `beat ${String(n)} read`);
    }
    assert.equal(broker.connections, 1);
    assert.equal(p.endedFlag, false);
    clock.advance(45);
    await p.ended;
  });

  test('[Connecting] no CONNECT within the timeout: dropped, not before', async () => {
    const clock = new TestClock();
    const broker = memoryBroker({ connectTimeout: 30, clock });
    after(() => broker.close());
    const p = pair(broker);
    clock.advance(29);
    assert.equal(broker.connections, 1);
    clock.advance(1);
    await p.ended;
    assert.equal(broker.connections, 0);
  });

  test('[Limits frame time] a frame trickled after CONNECT is refused after frameTimeout, whatever the heart-beats', async () => {
    const clock = new TestClock();
    // The client beats (any byte counts), so only the frame's own deadline can end it.
    const broker = memoryBroker({ frameTimeout: 1000, heartbeat: [0, 200], clock });
    after(() => broker.close());
    const p = await connected(broker, hb12('200,0'));
    const head = 'SEND\ndestination:/queue/slow\nreceipt:r1\n\n';
    // One byte per 100 ms: the broker reads each, the frame is still unfinished at 1000 ms.
    for (let i = 0; i < 10; i++) {
      const bytes = broker.metrics.bytesIn;
      p.raw(head[i]!);
      await eventually(() => broker.metrics.bytesIn > bytes, 'the byte read');
      clock.advance(i === 0 ? 99 : 100);
    }
    assert.equal(p.frames.length, 1); // CONNECTED only
    clock.advance(10);
    const e = await p.error(ErrorCode.TIMEOUT);
    assert.match(e.header('message') ?? '', /frame took longer than 1000 ms/);
    await p.ended;
  });

  test('[Limits frame time] frames that each arrive in time are served, however long the session', async () => {
    const clock = new TestClock();
    const broker = memoryBroker({ frameTimeout: 1000, clock });
    after(() => broker.close());
    const p = await connected(broker, hb12('0,0'));
    for (let i = 0; i < 5; i++) {
      // Half a frame, 999 ms, the rest: each frame takes 999 ms of the 1000 allowed.
      const bytes = broker.metrics.bytesIn;
      p.raw('SEND\ndestination:/queue/steady\n');
      await eventually(() => broker.metrics.bytesIn > bytes, 'the first half read');
      clock.advance(999);
      p.raw(`receipt:r${String(i)}\n\nx\0`);
      const r = await p.next('RECEIPT');
      assert.equal(r.header('receipt-id'), `r${String(i)}`);
      clock.advance(5000);
    }
    assert.equal(broker.connections, 1);
    p.close();
  });

  test('[Connecting] bytes before CONNECT are limited', async () => {
    const broker = memoryBroker({ maxPreConnectBytes: 1024 });
    after(() => broker.close());
    const p = pair(broker);
    p.raw('CONNECT\naccept-version:1.2\nx:' + 'a'.repeat(5000));
    const f = await p.error(ErrorCode.FRAME_TOO_LARGE);
    assert.match(f.header('message') ?? '', /exceeds/);
    await p.ended;
  });
});
