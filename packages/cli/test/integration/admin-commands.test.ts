// `stompede status|list|create|purge|delete|close-connection` as an operator runs them: child processes
// against a broker's admin server on a free port, tables for people, JSON for scripts, and clear
// errors when the admin server is off or refuses.
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type Broker, createBroker, hashPassword } from '@stompede/broker';
import { connect, nodeTransport } from '@stompede/client/node';

const main = fileURLToPath(new URL('../../dist/main.js', import.meta.url));
const FAST = { N: 1024, r: 8, p: 1 };

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

async function run(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const child = spawn(process.execPath, [main, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (t: string) => (stdout += t));
  child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

/** A port nothing listens on: bound, then released. */
async function freePort(): Promise<number> {
  const s = createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as { port: number }).port;
  s.close();
  await once(s, 'close');
  return port;
}

describe('admin commands', () => {
  let broker: Broker;
  let admin = '';
  let stomp = '';
  const env = { STOMPEDE_ADMIN_USER: 'ops', STOMPEDE_ADMIN_PASSWORD: 's3cret' };
  before(async () => {
    broker = createBroker({
      listeners: [{ protocol: 'tcp', port: 0 }],
      admin: {
        port: 0,
        user: 'ops',
        password: await hashPassword('s3cret', FAST),
        sampleInterval: 50,
      },
    });
    const [address] = await broker.listen();
    admin = broker.adminUrl!;
    stomp = `tcp://127.0.0.1:${String(address!.port)}`;
  });
  after(() => broker.close());

  const client = () => connect({ url: stomp, transport: nodeTransport() });

  it('status: health, uptime, connections, messages, memory and disk; exit 0 when ready', async () => {
    const r = await run(['status', '--admin', admin], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^broker +stompede\/[\d.]+, stompede [\d.]+, Node v\d+/m);
    assert.match(r.stdout, /^health +alive, ready$/m);
    assert.match(r.stdout, /^uptime +\d+s \(since \d{4}-/m);
    assert.match(r.stdout, /^memory +rss [\d.]+ MiB/m);
    assert.match(r.stdout, /^disk +no data directory/m);
    assert.match(r.stdout, /^cluster +single node$/m);
    const json = JSON.parse((await run(['status', '--json', '--admin', admin], env)).stdout) as {
      health: string;
      ready: boolean;
      cluster: unknown;
    };
    assert.equal(json.health, 'ok');
    assert.equal(json.ready, true);
    assert.deepEqual(json.cluster, { clustered: false });
  });

  it('list queues and topics: an aligned table by default, the API JSON with --json', async () => {
    const c = await client();
    await c.send('/queue/cli.orders', 'one', { receipt: true });
    await c.send('/queue/cli.orders', 'two', { receipt: true });
    const sub = await c.subscribe('/topic/cli.news', {}, () => undefined);
    await c.send('/queue/cli.other', 'x', { receipt: true });
    try {
      const r = await run(['list', 'queues', '--admin', admin], env);
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stdout.trimEnd().split('\n');
      assert.match(lines[0]!, /^VHOST +NAME +DEPTH +UNACKED +CONSUMERS +IN\/S +OUT\/S/);
      const orders = lines.find((l) => l.includes('/queue/cli.orders'))!;
      assert.match(orders, /^\/ +\/queue\/cli\.orders +2 +0 +0 /);
      // Columns line up: every row is as long as the header's columns need.
      const depthEnd = lines[0]!.indexOf('DEPTH') + 'DEPTH'.length;
      for (const l of lines.slice(1)) assert.match(l.slice(depthEnd - 1, depthEnd), /\d/);
      const json = JSON.parse(
        (await run(['list', 'queues', '--json', '--admin', admin], env)).stdout,
      ) as {
        destination: string;
        depth: number;
        kind: string;
      }[];
      assert.deepEqual(
        json
          .filter((d) => d.destination.startsWith('/queue/cli.'))
          .map((d) => [d.destination, d.depth, d.kind]),
        [
          ['/queue/cli.orders', 2, 'queue'],
          ['/queue/cli.other', 1, 'queue'],
        ],
      );
      const topics = await run(['list', 'topics', '--admin', admin], env);
      assert.match(topics.stdout, /^\/ +\/topic\/cli\.news +1 /m);
      assert.doesNotMatch(topics.stdout, /cli\.orders/);
    } finally {
      await sub.unsubscribe();
      await c.close();
    }
  });

  it('list connections and subscriptions show who is connected and what they read', async () => {
    const c = await client();
    const sub = await c.subscribe(
      '/queue/cli.watched',
      { ack: 'client-individual' },
      () => undefined,
    );
    await c.send('/queue/cli.nothing', 'x', { receipt: true });
    try {
      const conns = await run(['list', 'connections', '--admin', admin], env);
      assert.equal(conns.code, 0, conns.stderr);
      assert.match(conns.stdout, /^ID +USER +VHOST +TRANSPORT +ADDRESS +VERSION +HEART-BEAT/);
      assert.match(conns.stdout, / anonymous +\/ +tcp +127\.0\.0\.1:\d+ +1\.2 +\S+\/\S+ /);
      const subs = await run(['list', 'subscriptions', '--json', '--admin', admin], env);
      const rows = JSON.parse(subs.stdout) as {
        destination: string;
        ack: string;
        prefetch: number;
      }[];
      const row = rows.find((s) => s.destination === '/queue/cli.watched')!;
      assert.equal(row.ack, 'client-individual');
      assert.ok(row.prefetch > 0);
    } finally {
      await sub.unsubscribe();
      await c.close();
    }
  });

  it('purge and delete print what they did', async () => {
    const c = await client();
    for (let i = 0; i < 3; i++)
      await c.send('/queue/cli.purge', `m${String(i)}`, { receipt: true });
    await c.close();
    const p = await run(['purge', '/queue/cli.purge', '--admin', admin], env);
    assert.deepEqual([p.code, p.stdout], [0, 'purged 3 messages from /queue/cli.purge\n']);
    const d = await run(['delete', '/queue/cli.purge', '--admin', admin], env);
    assert.deepEqual([d.code, d.stdout], [0, 'deleted /queue/cli.purge (0 messages removed)\n']);
    const bad = await run(['purge', '/topic/t', '--admin', admin], env);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^stompede: .*queue.* \[ERR_STOMP_INVALID_ARGUMENT\] \(HTTP 400\)\n$/);
  });

  it('create makes a queue that exists while empty, says when it existed, refuses a topic', async () => {
    const made = await run(['create', '/queue/cli.made', '--admin', admin], env);
    assert.deepEqual([made.code, made.stdout], [0, 'created /queue/cli.made\n']);
    const again = await run(['create', '/queue/cli.made', '--admin', admin], env);
    assert.deepEqual(
      [again.code, again.stdout],
      [0, '/queue/cli.made exists already: nothing to do\n'],
    );
    const listed = JSON.parse(
      (await run(['list', 'queues', '--json', '--admin', admin], env)).stdout,
    ) as { destination: string; depth: number }[];
    assert.deepEqual(
      listed.filter((d) => d.destination === '/queue/cli.made').map((d) => d.depth),
      [0],
    );
    const topic = await run(['create', '/topic/cli.news', '--admin', admin], env);
    assert.equal(topic.code, 1);
    assert.match(
      topic.stderr,
      /^stompede: .*queue.* \[ERR_STOMP_INVALID_ARGUMENT\] \(HTTP 400\)\n$/,
    );
    const none = await run(['create', '--admin', admin], env);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /name one queue to create/);
    const d = await run(['delete', '/queue/cli.made', '--admin', admin], env);
    assert.deepEqual([d.code, d.stdout], [0, 'deleted /queue/cli.made (0 messages removed)\n']);
  });

  it('close-connection ends the session with the reason in its ERROR', async () => {
    const c = await client();
    const ids = JSON.parse(
      (await run(['list', 'connections', '--json', '--admin', admin], env)).stdout,
    ) as {
      id: string;
    }[];
    const id = ids.at(-1)!.id;
    const r = await run(
      ['close-connection', id, '--reason', 'maintenance window', '--admin', admin],
      env,
    );
    assert.deepEqual([r.code, r.stdout], [0, `closed connection ${id}\n`]);
    // The client ends with the broker's ERROR as the cause of the lost connection.
    const messages: string[] = [];
    for (let e: unknown = await c.closed; e instanceof Error; e = e.cause) messages.push(e.message);
    assert.match(messages.join(' / '), /closed by an administrator: maintenance window/);
    const gone = await run(['close-connection', id, '--admin', admin], env);
    assert.equal(gone.code, 1);
    assert.equal(gone.stderr, `stompede: no connection ${id}\n`);
  });

  it('errors: the admin server off, wrong or missing credentials, not an admin server', async () => {
    const port = await freePort();
    const off = await run(['status', '--admin', `http://127.0.0.1:${String(port)}`], env);
    assert.equal(off.code, 1);
    assert.match(
      off.stderr,
      /^stompede: cannot reach the admin server at http:\/\/127\.0\.0\.1:\d+: connection refused \(is the broker running with its admin server on\? `stompede broker --admin-port 61680`/,
    );
    const none = await run(['list', 'queues', '--admin', admin]);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /needs credentials: --admin-user USER and STOMPEDE_ADMIN_PASSWORD/);
    const wrong = await run(['list', 'queues', '--admin', admin, '--admin-user', 'ops'], {
      STOMPEDE_ADMIN_PASSWORD: 'nope',
    });
    assert.match(wrong.stderr, /refused these credentials/);
    const inUrl = await run([
      'list',
      'queues',
      '--admin',
      admin.replace('http://', 'http://ops:s3cret@'),
    ]);
    assert.equal(inUrl.code, 0, inUrl.stderr);
    const usage = await run(['list', 'widgets', '--admin', admin], env);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /say what to list: queues, topics, connections, subscriptions/);
    const stomp2 = await run(['status', '--admin', stomp.replace('tcp:', 'http:')], env);
    assert.equal(stomp2.code, 1);
    assert.match(stomp2.stderr, /cannot reach the admin server|did not answer/);
  });
});
