// `stompede create QUEUE`: create a queue, through the admin server.
import { adminClient, adminHelp, parseAdminArgs } from '../admin-client.js';
import { CliError } from '../cli-error.js';

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
  const parsed = parseAdminArgs('create', CREATE_HELP, argv, { vhost: { type: 'string' } });
  if (parsed === 'help') return 0;
  const [destination, ...extra] = parsed.positionals;
  if (destination === undefined || extra.length > 0)
    throw new CliError(`name one queue to create\n\n${CREATE_HELP}`);
  const admin = adminClient(parsed.values, process.env);
  const r = await admin.post<{ created: boolean }>('/api/destinations/create', {
    vhost: parsed.values.vhost ?? '/',
    destination,
  });
  process.stdout.write(
    r.created ? `created ${destination}\n` : `${destination} exists already: nothing to do\n`,
  );
  return 0;
}
