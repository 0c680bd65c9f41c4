// `stompede send` and `stompede subscribe` as a user runs them, against our broker on a free port.
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createBroker, type Broker } from '@stompede/broker';

const main = fileURLToPath(new URL('../../dist/main.js', import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

async function run(args: string[], stdin?: string): Promise<Run> {
  const child = spawn(process.execPath, [main, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (t: string) => (stdout += t));
  child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
  child.stdin.end(stdin);
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

describe('stompede send / subscribe', () => {
  let broker: Broker;
  let url = '';
  before(async () => {
    broker = createBroker({ listeners: [{ protocol: 'tcp', port: 0 }] });
    const [address] = await broker.listen();
    url = `tcp://127.0.0.1:${String(address!.port)}`;
  });
  after(() => broker.close());

  it('sends one message with a receipt and receives it', async () => {
    const sent = await run([
      'send',
      '/queue/one',
      'hello there',
      '--broker',
      url,
      '--header',
      'x-k:v:w',
    ]);
    assert.equal(sent.code, 0, sent.stderr);
    assert.match(sent.stderr, /sent 1 message to \/queue\/one/);
    const got = await run(['subscribe', '/queue/one', '--count', '1', '--json', '--broker', url]);
    assert.equal(got.code, 0, got.stderr);
    const frame = JSON.parse(got.stdout) as {
      command: string;
      headers: Record<string, string>;
      body: string;
    };
    assert.equal(frame.command, 'MESSAGE');
    assert.equal(frame.body, 'hello there');
    assert.equal(frame.headers['x-k'], 'v:w', 'a header value may contain colons');
    assert.equal(frame.headers.destination, '/queue/one');
  });

  it('sends one message per stdin line and reports a summary', async () => {
    const lines = Array.from({ length: 500 }, (_, i) => `line ${String(i)}`);
    const sent = await run(
      ['send', '/queue/bulk', '--broker', url, '--window', '16'],
      lines.join('\n') + '\n',
    );
    assert.equal(sent.code, 0, sent.stderr);
    assert.match(sent.stderr, /sent 500 messages to \/queue\/bulk in [\d.]+ s/);
    const got = await run([
      'subscribe',
      '/queue/bulk',
      '--count',
      '500',
      '--broker',
      url,
      '--quiet',
    ]);
    assert.equal(got.code, 0, got.stderr);
    assert.deepEqual(got.stdout.trimEnd().split('\n'), lines, 'FIFO, every line once');
  });

  it('with --count, leaves the messages it did not print on the queue', async () => {
    await run(['send', '/queue/count', '--broker', url, '--quiet'], 'a\nb\nc\nd\n');
    const first = await run([
      'subscribe',
      '/queue/count',
      '--count',
      '2',
      '--broker',
      url,
      '--quiet',
    ]);
    assert.equal(first.stdout, 'a\nb\n');
    const rest = await run([
      'subscribe',
      '/queue/count',
      '--count',
      '2',
      '--broker',
      url,
      '--quiet',
    ]);
    assert.equal(rest.stdout, 'c\nd\n');
  });

  it('prints bodies that are not UTF-8 as base64 in --json', async () => {
    const { connect } = await import('@stompede/client/node');
    const client = await connect(url);
    await client.send('/queue/bin', Uint8Array.of(0xff, 0, 1), { receipt: true });
    await client.close();
    const got = await run(['subscribe', '/queue/bin', '--count', '1', '--json', '--broker', url]);
    const frame = JSON.parse(got.stdout) as { bodyBase64?: string; body?: string };
    assert.equal(frame.body, undefined);
    assert.equal(frame.bodyBase64, Buffer.from([0xff, 0, 1]).toString('base64'));
  });

  it('exits 1 with a clear message when the broker is unreachable', async () => {
    const res = await run([
      'send',
      '/queue/x',
      'body',
      '--broker',
      'tcp://127.0.0.1:1',
      '--timeout',
      '2000',
    ]);
    assert.equal(res.code, 1);
    assert.match(res.stderr, /ERR_STOMP_CONNECTION_REFUSED/);
  });

  it('exits 1 and shows the ERROR frame the broker sent', async () => {
    const res = await run(['send', 'no-such-kind-of-destination', 'body', '--broker', url]);
    assert.equal(res.code, 1);
    assert.match(res.stderr, /the broker sent an ERROR/);
  });

  it('exits 2 on usage errors', async () => {
    assert.equal((await run(['send'])).code, 2);
    assert.equal((await run(['subscribe', '/queue/a', '--ack', 'sometimes'])).code, 2);
    assert.equal((await run(['send', '/queue/a', 'x', '--header', 'novalue'])).code, 2);
  });
});
