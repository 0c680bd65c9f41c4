// `stompede cluster up` (what `npm run cluster` runs): the demo starts three NATS servers and two
// nodes, prints their addresses, carries a message from one node to the other, and stops every
// process it started on Ctrl-C (SIGINT).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { connect } from '@stompede/client/node';
import { brokerCommand, natsMissing } from '../helper.js';

const skip = natsMissing();

/** True while process `pid` exists. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test(
  '[Cluster demo] stompede cluster up: addresses printed, a message crosses nodes, Ctrl-C stops everything',
  { skip },
  async () => {
    const [cmd, main] = brokerCommand();
    const child = spawn(cmd!, [main!, 'cluster', 'up', '--port', '0', '--ws-port', 'off'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: string[] = [];
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const up = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(
          new Error(`no "Ctrl-C stops everything." within 60 s:\n${lines.join('\n')}\n${stderr}`),
        );
      }, 60_000);
      createInterface({ input: child.stdout }).on('line', (line) => {
        lines.push(line);
        if (line === 'Ctrl-C stops everything.') {
          clearTimeout(timer);
          resolve();
        }
      });
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`cluster up exited (${String(code)}):\n${lines.join('\n')}\n${stderr}`));
      });
    });
    try {
      await up;
      const out = lines.join('\n');
      const natsPids = [...out.matchAll(/started \(pid (\d+), nats:\/\/127\.0\.0\.1:\d+\)/g)].map(
        (m) => Number(m[1]),
      );
      assert.equal(natsPids.length, 3, out);
      const nodes = [...out.matchAll(/stompede node \d+ +(tcp:\/\/127\.0\.0\.1:\d+)/g)].map(
        (m) => m[1]!,
      );
      assert.equal(nodes.length, 2, out);
      assert.match(out, new RegExp(`clients: failover:\\(${nodes.join(',')}\\)`));

      // A message sent on node 2 reaches a consumer on node 1.
      const consumer = await connect(nodes[0]!);
      const producer = await connect(nodes[1]!);
      const sub = await consumer.subscribe('/queue/demo', { receipt: true });
      await producer.send('/queue/demo', 'hello', {
        receipt: true,
        headers: { persistent: 'true' },
      });
      const m = await sub.receive({ timeout: 20_000 });
      assert.equal(m?.text, 'hello');
      await producer.close();
      await consumer.close();

      child.kill('SIGINT');
      assert.equal(await exited, 0, stderr);
      assert.match(lines.join('\n'), /stopped: every node and NATS server/);
      for (const pid of natsPids)
        assert.equal(alive(pid), false, `nats-server ${String(pid)} left running`);
    } finally {
      // A failed check still stops the demo the way a user would, so it takes its servers along.
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGINT');
        const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
        await exited;
        clearTimeout(timer);
      }
    }
  },
);
