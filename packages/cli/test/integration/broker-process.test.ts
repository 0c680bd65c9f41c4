// `stompede broker` as a user runs it: a child process on free ports, a STOMP session over TCP,
// JSON logs on stdout, and a graceful exit on SIGTERM.
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { once } from 'node:events';
import { after, describe, it } from 'node:test';
import { parse } from 'yaml';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const main = fileURLToPath(new URL('../../dist/main.js', import.meta.url));

interface LogLine {
  msg: string;
  listeners?: string[];
}

function startBroker(args: string[]): {
  child: ChildProcess;
  logs: LogLine[];
  ready: Promise<string[]>;
} {
  // Each broker journals into its own temporary directory, never the working directory.
  const dataDir = mkdtempSync(join(tmpdir(), 'stompede-cli-'));
  const child = spawn(process.execPath, [main, 'broker', '--data-dir', dataDir, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: LogLine[] = [];
  let buffered = '';
  const ready = new Promise<string[]>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (text: string) => {
      buffered += text;
      let nl;
      while ((nl = buffered.indexOf('\n')) !== -1) {
        const line = JSON.parse(buffered.slice(0, nl)) as LogLine;
        buffered = buffered.slice(nl + 1);
        logs.push(line);
        if (line.msg === 'broker listening') resolve(line.listeners ?? []);
      }
    });
    child.once('exit', (code) => {
      reject(new Error(`broker exited with ${String(code)} before listening`));
    });
  });
  return { child, logs, ready };
}

async function stompSession(port: number): Promise<string> {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  socket.write('CONNECT\naccept-version:1.2\nhost:localhost\n\n\0');
  socket.write('SEND\ndestination:/queue/cli\n\nvia the CLI\0');
  socket.write('SUBSCRIBE\nid:0\ndestination:/queue/cli\n\n\0');
  let received = '';
  socket.setEncoding('utf8');
  for await (const chunk of socket) {
    received += chunk as string;
    if (received.includes('via the CLI\0')) break;
  }
  socket.destroy();
  return received;
}

describe('stompede broker (child process)', () => {
  it('serves STOMP on the ports it reports and exits cleanly on SIGTERM', async () => {
    const { child, logs, ready } = startBroker([
      '--port',
      '0',
      '--ws-port',
      'off',
      '--log-level',
      'info',
    ]);
    after(() => child.kill('SIGKILL'));
    const listeners = await ready;
    assert.equal(listeners.length, 1, 'only TCP: --ws-port off turns WebSocket off');
    const port = Number(new URL(listeners[0]!).port);
    const received = await stompSession(port);
    assert.match(received, /^CONNECTED\n/);
    assert.match(received, /MESSAGE\n/);
    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 0);
    assert.ok(logs.some((l) => l.msg === 'broker stopped'));
  });

  it('stops gracefully when one Ctrl-C arrives twice (npm forwards it to the group it reached)', async () => {
    const { child, logs, ready } = startBroker(['--port', '0', '--ws-port', 'off']);
    after(() => child.kill('SIGKILL'));
    await ready;
    child.kill('SIGINT');
    child.kill('SIGINT');
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 0);
    assert.ok(logs.some((l) => l.msg === 'broker stopped'));
    assert.ok(!logs.some((l) => l.msg.startsWith('second signal')));
  });

  it('names an unusable certificate file and exits 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stompede-badcert-'));
    const bad = join(dir, 'server.pem');
    writeFileSync(bad, 'not a certificate\n');
    const child = spawn(
      process.execPath,
      [
        main,
        'broker',
        '--port',
        '0',
        '--ws-port',
        'off',
        '--in-memory',
        '--tls-port',
        '0',
        '--tls-cert',
        bad,
        '--tls-key',
        bad,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 2);
    assert.match(
      stderr,
      /invalid configuration: .*server\.pem is not a PEM certificate \(no start line\)/,
    );
  });

  it('opens the WebSocket listener on a free port with --ws-port 0', async () => {
    const { child, ready } = startBroker(['--port', '0', '--ws-port', '0']);
    after(() => child.kill('SIGKILL'));
    const listeners = await ready;
    const ws = listeners.filter((l) => l.startsWith('ws:'));
    assert.equal(ws.length, 1, listeners.join(' '));
    assert.match(ws[0]!, /^ws:\/\/127\.0\.0\.1:[1-9]\d*\/ws$/);
    child.kill('SIGTERM');
    await once(child, 'exit');
  });

  it('refuses a bad flag with exit code 2 and a hint', async () => {
    const child = spawn(process.execPath, [main, 'broker', '--port', 'abc'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 2);
    assert.match(stderr, /--port must be a port number/);
  });

  it('prints the effective configuration as a file', async () => {
    const print = async (env: NodeJS.ProcessEnv): Promise<Record<string, unknown>> => {
      const child = spawn(process.execPath, [main, 'broker', '--print-config', '--port', '1234'], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, STOMPEDE_PORT: '9', ...env },
      });
      let stdout = '';
      child.stdout.setEncoding('utf8').on('data', (t: string) => (stdout += t));
      const [code] = (await once(child, 'exit')) as [number | null];
      assert.equal(code, 0);
      return parse(stdout) as Record<string, unknown>;
    };
    const config = await print({ STOMPEDE_WS_PORT: 'off' });
    assert.equal(config.dataDir, join(process.cwd(), 'data'), 'journal in ./data by default');
    assert.equal(config.port, 1234, 'a flag beats the environment');
    assert.equal(config.ws, false, 'STOMPEDE_WS_PORT=off turns WebSocket off');
    assert.equal(config.host, '127.0.0.1', 'loopback by default');
    // 0 is "any free port" for every port, flag, variable or file key alike.
    assert.deepEqual((await print({ STOMPEDE_WS_PORT: '0' })).ws, { port: 0, path: '/ws' });
  });
});
