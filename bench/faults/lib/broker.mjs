// A broker in a process of its own, for the fault scripts: the `stompede broker` command on free
// loopback ports (port 0), its JSON log lines parsed and kept, and ways to stop it gently
// (SIGTERM) or not (SIGKILL).
//
//   const broker = await startBroker({ dataDir, args: ['--verify-journal'] });
//   broker.url            // 'tcp://127.0.0.1:PORT' (for @stompede/client/node's connect)
//   broker.logs           // every log line so far, parsed ({ level, msg, ... })
//   await broker.waitForLog((l) => l.msg === '...', 5000);
//   await broker.kill();  // SIGKILL, resolves once the process is gone
//   await broker.stop();  // SIGTERM (a clean stop), resolves with the exit code
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The CLI's entry point (built by `npm run build`). */
export const CLI = fileURLToPath(new URL('../../../packages/cli/dist/main.js', import.meta.url));

/**
 * Start a broker. Options: `dataDir` (else `--in-memory`), `args` (more CLI flags), `admin`
 * (also the admin HTTP server on a free port: `broker.adminUrl`), `env`, `logLevel` (default
 * info), `startTimeoutMs` (default 30 s). Rejects with the broker's output when it exits or
 * does not listen in time.
 */
export function startBroker(options = {}) {
  const args = [CLI, 'broker', '--host', '127.0.0.1', '--port', '0', '--ws-port', '0'];
  args.push('--log-level', options.logLevel ?? 'info');
  if (options.dataDir === undefined) args.push('--in-memory');
  else args.push('--data-dir', options.dataDir);
  if (options.admin === true) args.push('--admin-port', '0');
  args.push(...(options.args ?? []));
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...options.env },
  });
  const logs = [];
  const waiters = new Set();
  let stderr = '';
  let rest = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk) => {
    rest += chunk;
    let nl;
    while ((nl = rest.indexOf('\n')) >= 0) {
      const line = rest.slice(0, nl);
      rest = rest.slice(nl + 1);
      let entry;
      try {
        entry = JSON.parse(line);
      } catch {
        entry = { level: 30, msg: line };
      }
      logs.push(entry);
      for (const w of waiters) w.check(entry);
    }
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => {
    stderr = (stderr + chunk).slice(-8192);
  });
  const exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      for (const w of waiters) w.fail(new Error(`the broker exited (${signal ?? code})`));
      resolve({ code, signal });
    });
  });

  /** Resolves with the first log line (past or future) for which `match` is true. */
  function waitForLog(match, timeoutMs = 10_000) {
    const seen = logs.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const w = {
        check(entry) {
          if (!match(entry)) return;
          done();
          resolve(entry);
        },
        fail(err) {
          done();
          reject(err);
        },
      };
      const timer = setTimeout(
        () => w.fail(new Error(`no such log line within ${timeoutMs} ms`)),
        timeoutMs,
      );
      const done = () => {
        clearTimeout(timer);
        waiters.delete(w);
      };
      waiters.add(w);
      if (child.exitCode !== null || child.signalCode !== null)
        w.fail(new Error('the broker exited'));
    });
  }

  const broker = {
    pid: child.pid,
    logs,
    exited,
    waitForLog,
    get stderr() {
      return stderr;
    },
    /** SIGKILL; resolves once it is gone. */
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      return exited;
    },
    /** SIGTERM (a graceful close); resolves with { code, signal }. */
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
    url: '',
    port: 0,
    adminUrl: undefined,
  };
  return waitForLog((l) => l.msg === 'broker listening', options.startTimeoutMs ?? 30_000).then(
    (line) => {
      const stomp = new URL(line.listeners[0]);
      broker.port = Number(stomp.port);
      broker.url = `tcp://127.0.0.1:${broker.port}`;
      broker.adminUrl = line.admin;
      return broker;
    },
    async (err) => {
      await broker.kill();
      const tail = logs
        .slice(-5)
        .map((l) => JSON.stringify(l))
        .join('\n');
      throw new Error(`the broker did not start: ${err.message}\n${tail}\n${stderr}`);
    },
  );
}

/** Log lines at warn (40) or above, for a verdict's figures. */
export function problems(logs) {
  return logs.filter((l) => l.level >= 40);
}
