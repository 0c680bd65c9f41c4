// `stompede delete DESTINATION`: delete a queue or a topic, through the admin server.
import { adminClient, adminHelp, parseAdminArgs } from '../admin-client.js';
import { CliError } from '../cli-error.js';

export const DELETE_HELP = adminHelp(
  `Usage: stompede delete DESTINATION [options]

Delete a queue (/queue/NAME) with every message it holds, or a topic (/topic/NAME) with every
subscription to it, durable ones included. Sessions subscribed to it get an ERROR and are
closed; the next use of the destination needs the 'create' right again. With --durable
CLIENT-ID/NAME, delete only that durable subscription of the topic.
`,
  `  --vhost V           the destination's virtual host   (/)
  --durable ID/NAME   delete the durable subscription NAME of client-id ID instead
`,
);

export async function runDelete(argv: readonly string[]): Promise<number> {
  const parsed = parseAdminArgs('delete', DELETE_HELP, argv, {
    vhost: { type: 'string' },
    durable: { type: 'string' },
  });
  if (parsed === 'help') return 0;
  const { values, positionals } = parsed;
  const vhost = values.vhost ?? '/';
  const admin = adminClient(values, process.env);
  if (values.durable !== undefined) {
    const slash = values.durable.indexOf('/');
    if (slash <= 0 || slash === values.durable.length - 1 || positionals.length > 0)
      throw new CliError('--durable takes CLIENT-ID/NAME, and no destination beside it');
    const clientId = values.durable.slice(0, slash);
    const name = values.durable.slice(slash + 1);
    await admin.post('/api/durable-subscriptions/delete', { vhost, clientId, name });
    process.stdout.write(`deleted the durable subscription ${clientId}/${name}\n`);
    return 0;
  }
  const [destination, ...extra] = positionals;
  if (destination === undefined || extra.length > 0)
    throw new CliError(`name one destination to delete\n\n${DELETE_HELP}`);
  const r = await admin.post<{ purged: number }>('/api/destinations/delete', {
    vhost,
    destination,
  });
  process.stdout.write(`deleted ${destination} (${String(r.purged)} messages removed)\n`);
  return 0;
}
