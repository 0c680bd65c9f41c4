// `stompede create QUEUE`: create a queue, through the admin server.
import { adminHelp, postForQueue } from '../admin-client.js';

export const CREATE_HELP = adminHelp(
  `Usage: stompede create QUEUE [options]

Create the queue QUEUE (e.g. /queue/orders): it exists from now on, empty and unused included,
until 'stompede delete' deletes it, and with a data directory across restarts. Using it then
needs the 'read' or 'write' right only, not 'create', so consumers and producers can be given
no more than that. Creating a queue that exists already changes nothing. Only queues can be
created: a topic exists through its subscriptions.
`,
  `  --vhost V           the queue's virtual host   (/)
`,
);

export async function runCreate(argv: readonly string[]): Promise<number> {
  const r = await postForQueue<{ created: boolean }>(
    'create',
    CREATE_HELP,
    argv,
    '/api/destinations/create',
  );
  if (r === 'help') return 0;
  process.stdout.write(
    r.answer.created
      ? `created ${r.destination}\n`
      : `${r.destination} exists already: nothing to do\n`,
  );
  return 0;
}
