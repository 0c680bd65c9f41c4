// A watchdog client for fault scripts: one message round trip (a receipted SEND to its own queue,
// then the MESSAGE back) every 100 ms while the fault runs, recording the worst wait.
//
//   const dog = await startWatchdog(broker.url, '/queue/faults.x.watch');
//   ... the fault ...
//   const figures = await dog.stop(); // { rounds, worstMs }
import { connect } from '@stompede/client/node';
import { sleep } from './verdict.mjs';

/** Start the round trips; `stop()` ends them and resolves to `{ rounds, worstMs }`. */
export async function startWatchdog(url, destination) {
  const client = await connect(url, { reconnect: false, heartBeat: [0, 0] });
  const sub = await client.subscribe(destination);
  let worst = 0;
  let rounds = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const t = Date.now();
      await client.send(destination, String(rounds), { receipt: true });
      const m = await sub.receive({ timeout: 10_000 });
      if (m.text !== String(rounds)) throw new Error(`watchdog: got ${m.text}, sent ${rounds}`);
      worst = Math.max(worst, Date.now() - t);
      rounds++;
      await sleep(100);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      await client.close();
      return { rounds, worstMs: worst };
    },
  };
}
