// `stompede purge QUEUE`: drop the messages waiting in a queue, through the admin server.
import { adminHelp, postForQueue } from '../admin-client.js';

export const PURGE_HELP = adminHelp(
  `Usage: stompede purge QUEUE [options]

Remove the messages waiting in QUEUE (e.g. /queue/orders). Messages delivered and not yet
acknowledged stay (they go back to the queue if their consumer does not acknowledge them).
Prints how many were removed.
`,
  `  --vhost V           the queue's virtual host   (/)
`,
);

export async function runPurge(argv: readonly string[]): Promise<number> {
  const r = await postForQueue<{ purged: number }>('purge', PURGE_HELP, argv, '/api/queues/purge');
  if (r === 'help') return 0;
  process.stdout.write(`purged ${String(r.answer.purged)} messages from ${r.destination}\n`);
  return 0;
}
