// `stompede purge QUEUE`: drop the messages waiting in a queue, through the admin server.
import { adminClient, adminHelp, parseAdminArgs } from '../admin-client.js';
import { CliError } from '../cli-error.js';

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
  const parsed = parseAdminArgs('purge', PURGE_HELP, argv, { vhost: { type: 'string' } });
  if (parsed === 'help') return 0;
  const [destination, ...extra] = parsed.positionals;
  if (destination === undefined || extra.length > 0)
    throw new CliError(`name one queue to purge\n\n${PURGE_HELP}`);
  const admin = adminClient(parsed.values, process.env);
  const r = await admin.post<{ purged: number }>('/api/queues/purge', {
    vhost: parsed.values.vhost ?? '/',
    destination,
  });
  process.stdout.write(`purged ${String(r.purged)} messages from ${destination}\n`);
  return 0;
}
