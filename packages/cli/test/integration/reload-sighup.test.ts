// `stompede broker` reloads its TLS certificate files on SIGHUP: a child process on free ports,
// a TLS session that stays open across the reload, new sessions that see the new certificate,
// and a bad file that is logged while the certificate in use is kept.
import { strict as assert } from 'node:assert';
import { execFileSync, spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TLSSocket, connect } from 'node:tls';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('../../dist/main.js', import.meta.url));

interface LogLine {
  msg: string;
  listeners?: string[];
}

function selfSigned(dir: string, name: string): string {
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      '-subj',
      `/CN=${name}`,
      '-keyout',
      join(dir, `${name}.key`),
      '-out',
      join(dir, `${name}.pem`),
    ],
    { stdio: 'ignore' },
  );
  return new X509Certificate(readFileSync(join(dir, `${name}.pem`))).fingerprint256;
}

function tlsConnect(port: number): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      resolve(s);
    });
    s.once('error', reject);
  });
}

async function fingerprintServed(port: number): Promise<string> {
  const s = await tlsConnect(port);
  const fp = s.getPeerCertificate().fingerprint256;
  s.destroy();
  return fp;
}

/** Everything `socket` receives, and a way to wait until some text has arrived. */
function collect(socket: TLSSocket): (text: string) => Promise<string> {
  let received = '';
  let wake: (() => void) | undefined;
  socket.setEncoding('utf8').on('data', (chunk: string) => {
    received += chunk;
    wake?.();
  });
  return async (text) => {
    while (!received.includes(text)) {
      await new Promise<void>((resolve) => (wake = resolve));
    }
    return received;
  };
}

describe('stompede broker: SIGHUP', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stompede-sighup-'));
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('[TLS reload] SIGHUP reloads the certificate files; open sessions stay, bad files are kept out', async () => {
    const oldFp = selfSigned(dir, 'old');
    const newFp = selfSigned(dir, 'new');
    const live = join(dir, 'live.pem');
    const liveKey = join(dir, 'live.key');
    copyFileSync(join(dir, 'old.pem'), live);
    copyFileSync(join(dir, 'old.key'), liveKey);
    // The broker's journal goes to a directory of its own, never the working directory.
    const child = spawn(
      process.execPath,
      [
        main,
        'broker',
        '--data-dir',
        join(dir, 'data'),
        '--port',
        '0',
        '--ws-port',
        'off',
        '--tls-port',
        '0',
        '--tls-cert',
        live,
        '--tls-key',
        liveKey,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    after(() => child.kill('SIGKILL'));
    const logs: LogLine[] = [];
    const waiters: (() => void)[] = [];
    let buffered = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => {
      buffered += text;
      let nl;
      while ((nl = buffered.indexOf('\n')) !== -1) {
        logs.push(JSON.parse(buffered.slice(0, nl)) as LogLine);
        buffered = buffered.slice(nl + 1);
        for (const w of waiters.splice(0)) w();
      }
    });
    const logged = async (msg: string, count = 1): Promise<void> => {
      while (logs.filter((l) => l.msg === msg).length < count) {
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
    };
    await logged('broker listening');
    const urls = logs.find((l) => l.msg === 'broker listening')!.listeners!;
    const port = Number(new URL(urls.find((u) => u.startsWith('ssl:'))!).port);

    assert.equal(await fingerprintServed(port), oldFp);
    const session = await tlsConnect(port);
    const readUntil = collect(session);
    session.write('CONNECT\naccept-version:1.2\nhost:/\n\n\0');
    session.write('SUBSCRIBE\nid:0\ndestination:/queue/hup\n\n\0');
    await readUntil('CONNECTED');

    copyFileSync(join(dir, 'new.pem'), live);
    copyFileSync(join(dir, 'new.key'), liveKey);
    child.kill('SIGHUP');
    await logged('certificate reload finished');
    assert.ok(logs.some((l) => l.msg === 'certificates reloaded'));
    assert.equal(await fingerprintServed(port), newFp);

    // A broken certificate file: logged, the new certificate stays in use.
    writeFileSync(live, 'garbage\n');
    child.kill('SIGHUP');
    await logged('certificate reload finished', 2);
    assert.ok(logs.some((l) => l.msg.startsWith('certificate reload failed')));
    assert.equal(await fingerprintServed(port), newFp);

    // The session opened before both reloads still works.
    session.write('SEND\ndestination:/queue/hup\n\nafter the reload\0');
    assert.match(await readUntil('after the reload'), /MESSAGE\n/);
    session.destroy();

    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 0);
  });
});
