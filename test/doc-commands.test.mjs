// Every shell command shown in README.md and docs/*.md is run here, as written, the way a new
// user follows the docs right after the README's first command (`npm ci && npm start`):
//
// - Each document is one session: a fresh scratch directory inside the checkout (standing in for
//   the clone's root, so `npx stompede` finds the linked bin) and a network namespace of its own
//   (`unshare -rn`), so the documented ports (61613, 15674, 61680…) are the real ones and nothing
//   collides with other tests or the shared RabbitMQ/ActiveMQ. Nothing there reaches the network:
//   a command that tried to download something would fail.
// - Lines of ```sh blocks run in order with bash (`pipefail`), each within RUN_LIMIT_MS, and must
//   exit 0, unless their comment says `# exits N: TEXT`: then they must exit N and print TEXT on
//   stderr (how the docs show an error). A block whose first line names a file (`# NAME.yaml`,
//   `// NAME.js`, `<!-- NAME.html -->`) is written to that file where it appears, as a reader
//   would save it.
// - A command that runs a broker (`stompede broker` without --help or --print-config, and
//   `npm start`) is what a reader leaves running in a terminal of its own: the broker already
//   running there is interrupted first (Ctrl-C, SIGINT to its process group; it must stop
//   gracefully), and the new one must log `broker listening` within READY_LIMIT_MS. The last one
//   is interrupted at the end of the document.
// - `npm ci` is how this checkout was installed, and `npm test` is the suite running this test:
//   they are reported as skipped with that reason. `npm start` runs for real, with
//   STOMPEDE_DATA_DIR pointing into the scratch directory instead of the checkout's ./data.
import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { codeBlocks, documents, fileName, root, shellCommands } from './lib/markdown.mjs';

const RUN_LIMIT_MS = 120_000;
const READY_LIMIT_MS = 60_000;
const STOP_LIMIT_MS = 30_000;

/** The steps of a document: shell commands and files to write, in document order. */
function steps(doc) {
  const out = [];
  for (const block of codeBlocks(doc)) {
    if (block.lang === 'sh') {
      for (const c of shellCommands(block)) out.push({ kind: 'sh', ...c });
    } else {
      const name = fileName(block);
      if (name !== undefined) out.push({ kind: 'file', line: block.line, name, text: block.text });
    }
  }
  return out;
}

const ENVIRONMENT = {
  'npm ci': 'not run: it is how this checkout was installed',
  'npm test': 'not run: it is the test suite this test is part of',
};

/** True when `command` runs a broker until interrupted. */
function runsBroker(command) {
  if (command === 'npm start') return true;
  return (
    /(^|[\s;&|(])(npx\s+)?stompede\s+broker(\s|$)/.test(command) &&
    !/(^|\s)(--help|-h|--print-config)(\s|$)/.test(command)
  );
}

/** Why the documented commands cannot run here (no network namespaces), or undefined. */
function unsupported() {
  if (process.platform !== 'linux') return 'needs Linux network namespaces (unshare -rn)';
  const probe = spawnSync('unshare', ['-rn', 'ip', 'link', 'set', 'lo', 'up'], {
    encoding: 'utf8',
  });
  if (probe.error !== undefined || probe.status !== 0) {
    return `cannot make a network namespace with loopback (unshare -rn ip link set lo up: ${
      probe.error?.message ?? probe.stderr.trim()
    })`;
  }
  return undefined;
}

/** The environment a new user's shell would have: no STOMPEDE_* settings, no npm-run PATH. */
function userEnv() {
  const path = (process.env.PATH ?? '')
    .split(delimiter)
    .filter((dir) => !dir.includes('node_modules'))
    .join(delimiter);
  return {
    PATH: path,
    HOME: process.env.HOME ?? '/tmp',
    LANG: 'C.UTF-8',
    npm_config_update_notifier: 'false',
    npm_config_fund: 'false',
    npm_config_audit: 'false',
  };
}

const tail = (text) => text.split('\n').slice(-40).join('\n');

/** A scratch directory and a network namespace in which a document's commands run. */
class Session {
  constructor(doc) {
    this.dir = mkdtempSync(join(root, `.doc-commands-${doc.replace(/\W+/g, '-')}-`));
    // `cat` keeps the namespace alive until its stdin closes (at close(), or when we die).
    this.holder = spawn('unshare', ['-rn', 'cat'], { stdio: ['pipe', 'ignore', 'inherit'] });
    this.broker = undefined;
  }

  async ready() {
    // unshare makes the namespaces, writes the user namespace's uid map, then runs `cat`: once
    // `cat` runs, the namespace is ready to enter.
    const deadline = Date.now() + 10_000;
    while (!isCat(this.holder.pid)) {
      if (Date.now() > deadline) throw new Error('unshare did not start its namespace');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const up = spawnSync('nsenter', this.enter(['ip', 'link', 'set', 'lo', 'up']), {
      encoding: 'utf8',
    });
    assert.equal(up.status, 0, `ip link set lo up: ${up.stderr}`);
  }

  enter(argv) {
    return ['-t', String(this.holder.pid), '-U', '-n', '--preserve-credentials', ...argv];
  }

  /** Start `command` with bash in the namespace, in a process group of its own. */
  spawn(command, env = {}) {
    const child = spawn('nsenter', this.enter(['bash', '-o', 'pipefail', '-c', command]), {
      cwd: this.dir,
      env: { ...userEnv(), ...env },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const proc = { child, stdout: '', stderr: '', exited: undefined };
    child.stdout.setEncoding('utf8').on('data', (d) => (proc.stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (proc.stderr += d));
    // 'close', not 'exit': the process may exit (npm re-raising Ctrl-C on itself) before its
    // output, or the broker's it started, has been read from the pipes.
    proc.exited = new Promise((resolve) =>
      child.on('close', (code, signal) => resolve({ code, signal })),
    );
    return proc;
  }

  /**
   * Run a command to completion within RUN_LIMIT_MS; it must exit `expected.code` (0 by default)
   * and, when given, print `expected.stderr` on stderr.
   */
  async run(command, expected = { code: 0 }) {
    const proc = this.spawn(command);
    const timer = setTimeout(() => killGroup(proc, 'SIGKILL'), RUN_LIMIT_MS);
    const { code, signal } = await proc.exited;
    clearTimeout(timer);
    const output = `--- stdout\n${tail(proc.stdout)}\n--- stderr\n${tail(proc.stderr)}`;
    assert.ok(
      code === expected.code,
      `exited with ${signal ?? code}${signal === 'SIGKILL' ? ` (over ${RUN_LIMIT_MS} ms)` : ''}, ` +
        `expected ${expected.code}\n${output}`,
    );
    if (expected.stderr !== undefined) {
      assert.ok(
        proc.stderr.includes(expected.stderr),
        `stderr lacks ${JSON.stringify(expected.stderr)}\n${output}`,
      );
    }
    return proc;
  }

  /** Interrupt the running broker, if any; it must shut down gracefully. */
  async stopBroker() {
    const proc = this.broker;
    if (proc === undefined) return;
    this.broker = undefined;
    killGroup(proc, 'SIGINT');
    const timer = setTimeout(() => killGroup(proc, 'SIGKILL'), STOP_LIMIT_MS);
    const { code, signal } = await proc.exited;
    clearTimeout(timer);
    const output = `--- stdout\n${tail(proc.stdout)}\n--- stderr\n${tail(proc.stderr)}`;
    // npm re-raises the signal on itself once its child is done: that is a normal end too.
    assert.ok(
      code === 0 || signal === 'SIGINT',
      `after Ctrl-C: exited with ${signal ?? code}\n${output}`,
    );
    assert.match(
      proc.stdout,
      /"msg":"broker stopped"/,
      `no "broker stopped" after Ctrl-C\n${output}`,
    );
  }

  /** Start a broker in the background (after stopping the one running); wait until it listens. */
  async startBroker(command) {
    await this.stopBroker();
    const env = command === 'npm start' ? { STOMPEDE_DATA_DIR: join(this.dir, 'data') } : {};
    const proc = this.spawn(command, env);
    this.broker = proc;
    const listening = new Promise((resolve) => {
      const check = () => {
        if (proc.stdout.includes('"msg":"broker listening"')) resolve('ready');
      };
      proc.child.stdout.on('data', check);
      check();
    });
    let timer;
    const outcome = await Promise.race([
      listening,
      proc.exited.then((e) => `exited with ${e.signal ?? e.code}`),
      new Promise((resolve) => (timer = setTimeout(resolve, READY_LIMIT_MS, 'timed out'))),
    ]);
    clearTimeout(timer);
    if (outcome !== 'ready') {
      this.broker = undefined;
      killGroup(proc, 'SIGKILL');
      assert.fail(
        `the broker did not log "broker listening": ${outcome}\n` +
          `--- stdout\n${tail(proc.stdout)}\n--- stderr\n${tail(proc.stderr)}`,
      );
    }
  }

  close() {
    if (this.broker !== undefined) killGroup(this.broker, 'SIGKILL');
    this.holder.stdin.end();
    this.holder.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function isCat(pid) {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'cat';
  } catch {
    return false;
  }
}

function killGroup(proc, signal) {
  try {
    process.kill(-proc.child.pid, signal);
  } catch {
    // already gone
  }
}

const skipReason = unsupported();

for (const doc of documents()) {
  const docSteps = steps(doc);
  if (!docSteps.some((s) => s.kind === 'sh')) continue;
  describe(`${doc}: shell commands`, () => {
    if (skipReason !== undefined) {
      it('runs every command', (t) => t.skip(skipReason));
      return;
    }
    let session;
    before(async () => {
      session = new Session(doc);
      await session.ready();
    });
    after(() => session?.close());
    for (const step of docSteps) {
      const title = `${doc}:${step.line} ${step.kind === 'file' ? `(writes ${step.name})` : step.command}`;
      if (step.kind === 'file') {
        it(title, () => writeFileSync(join(session.dir, step.name), step.text + '\n'));
        continue;
      }
      const parts = step.command.split(/\s+&&\s+/);
      const skipped = parts.filter((p) => ENVIRONMENT[p] !== undefined);
      const rest = parts.filter((p) => ENVIRONMENT[p] === undefined);
      it(title, async (t) => {
        if (rest.length === 0)
          return t.skip(skipped.map((p) => `${p}: ${ENVIRONMENT[p]}`).join('; '));
        for (const p of skipped) t.diagnostic(`${p}: ${ENVIRONMENT[p]}`);
        const command = rest.join(' && ');
        const exits = /^exits (\d+)(?::\s*(.+))?$/.exec(step.comment);
        if (runsBroker(command)) await session.startBroker(command);
        else if (exits === null) await session.run(command);
        else await session.run(command, { code: Number(exits[1]), stderr: exits[2] });
      });
    }
    it(`${doc}: the broker left running stops on Ctrl-C`, async () => {
      await session.stopBroker();
    });
  });
}
