// `stompede bench` against our broker on a free port and against its self-test sink: short runs
// by message count, every delivery accounted for. No timed assertions.
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Broker, createBroker, hashPassword } from '@stompede/broker';
import { parseBenchArgs } from '../../dist/bench/options.js';
import { runBench } from '../../dist/bench/run.js';
import { startSink } from '../../dist/bench/sink.js';
import { selfSigned } from '../helpers/certs.js';

const main = fileURLToPath(new URL('../../dist/main.js', import.meta.url));

function options(argv: string[]) {
  const o = parseBenchArgs([...argv, '--quiet']);
  if (o === 'help') throw new Error('help');
  return o;
}

describe('stompede bench against our broker', () => {
  let broker: Broker;
  let tcp = '';
  let ws = '';
  before(async () => {
    broker = createBroker({
      listeners: [
        { protocol: 'tcp', host: '127.0.0.1', port: 0 },
        { protocol: 'ws', host: '127.0.0.1', port: 0, path: '/ws' },
      ],
    });
    const addresses = await broker.listen();
    tcp = addresses.find((a) => a.protocol === 'tcp')!.url;
    ws = addresses.find((a) => a.protocol === 'ws')!.url;
  });
  after(async () => {
    await broker.close();
  });

  it('queue, 2 producers -> 2 consumers, client-individual: every message once and intact', async () => {
    const s = await runBench(
      options([
        '--broker',
        tcp,
        '-x',
        '2',
        '-y',
        '2',
        '-C',
        '500',
        '-a',
        'client-individual',
        '-d',
        '/queue/b1',
      ]),
    );
    assert.equal(s.sent, 1000);
    assert.equal(s.expected, 1000);
    assert.equal(s.received, 1000);
    assert.deepEqual([s.lost, s.duplicated, s.corrupted, s.errors.length], [0, 0, 0, 0]);
    assert.ok(s.ok);
    assert.ok(s.latencyMs.max >= s.latencyMs.p50);
  });

  it('topic fan-out 1 -> 3, client ack every 7th, 4 KiB: each subscriber gets every message', async () => {
    const s = await runBench(
      options([
        '--broker',
        tcp,
        '-y',
        '3',
        '-k',
        'topic',
        '-C',
        '300',
        '-s',
        '4096',
        '-a',
        'client',
        '--ack-every',
        '7',
      ]),
    );
    assert.equal(s.sent, 300);
    assert.equal(s.expected, 900);
    assert.equal(s.received, 900);
    assert.ok(s.ok, JSON.stringify(s));
  });

  it('over WebSocket with a fixed rate and tiny bodies', async () => {
    const s = await runBench(
      options(['--broker', ws, '-C', '200', '-r', '2000', '-s', '5', '-d', '/queue/b3']),
    );
    assert.equal(s.received, 200);
    assert.ok(s.ok, JSON.stringify(s));
  });

  it('--consume-rate: a throttled consumer pauses its socket and still gets every message once', async () => {
    // 40 messages at 20/s: the burst arrives at once, so the consumer must pause to keep its rate.
    for (const url of [tcp, ws]) {
      const s = await runBench(
        options(['--broker', url, '-C', '40', '--consume-rate', '20', '-d', '/queue/b-throttled']),
      );
      assert.equal(s.options.consumeRate, 20);
      assert.equal(s.received, 40);
      assert.ok(s.consumerPauses > 0, JSON.stringify(s));
      assert.ok(s.ok, JSON.stringify(s));
    }
    const unthrottled = await runBench(
      options(['--broker', tcp, '-C', '40', '-d', '/queue/b-unthrottled']),
    );
    assert.equal(unthrottled.consumerPauses, 0);
  });

  it('--warmup: messages sent during the warm-up are checked but not in the latency figures', async () => {
    // Every message of a 20-message run goes out within a 60 s warm-up: none is measured.
    const all = await runBench(
      options(['--broker', tcp, '-C', '20', '-r', '1000', '--warmup', '60']),
    );
    assert.equal(all.received, 20);
    assert.ok(all.ok, JSON.stringify(all));
    assert.equal(all.options.warmup, 60);
    assert.deepEqual([all.latencyMs.p50, all.latencyMs.max], [0, 0]);
    // With a duration, the warm-up comes first and the run is that much longer.
    const timed = await runBench(
      options([
        '--broker',
        tcp,
        '-z',
        '0.3',
        '--warmup',
        '0.3',
        '-r',
        '100',
        '-d',
        '/queue/b-warm',
      ]),
    );
    assert.ok(timed.sendSeconds >= 0.55, JSON.stringify(timed));
    assert.ok(timed.latencyMs.max > 0, JSON.stringify(timed));
    assert.ok(timed.ok, JSON.stringify(timed));
  });

  it('the command prints a JSON summary and exits 0', async () => {
    // Asynchronously: the broker runs in this process.
    const child = spawn(
      process.execPath,
      [main, 'bench', '--broker', tcp, '-C', '100', '--json', '--quiet'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const [code] = (await once(child, 'close')) as [number];
    assert.equal(code, 0, err);
    const summary = JSON.parse(out) as { sent: number; received: number; ok: boolean };
    assert.deepEqual([summary.sent, summary.received, summary.ok], [100, 100, true]);
  });
});

describe('stompede bench over TLS, with the connection flags of send and subscribe', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stompede-bench-tls-'));
  let broker: Broker;
  let ssl = '';
  let cert = '';
  before(async () => {
    const files = selfSigned(dir, 'broker');
    cert = files.cert;
    broker = createBroker({
      listeners: [
        { protocol: 'tls', host: '127.0.0.1', port: 0, certFile: files.cert, keyFile: files.key },
      ],
      users: { bench: { password: await hashPassword('s3cret', { N: 1024, r: 8, p: 1 }) } },
      vhosts: ['/perf'],
    });
    ssl = (await broker.listen())[0]!.url;
  });
  after(async () => {
    await broker.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('--broker ssl://, --tls-ca, --login, --passcode, --vhost', async () => {
    assert.match(ssl, /^ssl:\/\/127\.0\.0\.1:\d+$/);
    const s = await runBench(
      options([
        '--broker',
        ssl,
        '--tls-ca',
        cert,
        '--login',
        'bench',
        '--passcode',
        's3cret',
        '--vhost',
        '/perf',
        '-C',
        '50',
      ]),
    );
    assert.equal(s.received, 50);
    assert.ok(s.ok, JSON.stringify(s));
  });

  it('refuses an unverified certificate unless --insecure', async () => {
    const refused = await runBench(
      options([
        '--broker',
        ssl,
        '--login',
        'bench',
        '--passcode',
        's3cret',
        '-C',
        '5',
        '--drain-timeout',
        '1',
      ]),
    ).then(
      (s) => s.errors.join('; '),
      (err: unknown) => String(err),
    );
    assert.match(refused, /self-signed certificate/);
    const insecure = await runBench(
      options([
        '--broker',
        ssl,
        '--insecure',
        '--login',
        'bench',
        '--passcode',
        's3cret',
        '--vhost',
        '/perf',
        '-C',
        '5',
      ]),
    );
    assert.ok(insecure.ok, JSON.stringify(insecure));
  });
});

describe('stompede bench self-test sink', () => {
  it('delivers every message of a short run', async () => {
    const sink = await startSink();
    try {
      const s = await runBench(options(['--broker', sink.url, '-x', '2', '-y', '2', '-C', '300']));
      assert.equal(s.sent, 600);
      assert.equal(s.received, 600);
      assert.ok(s.ok, JSON.stringify(s));
    } finally {
      await sink.close();
    }
  });
});
