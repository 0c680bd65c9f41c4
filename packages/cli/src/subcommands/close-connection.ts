// `stompede close-connection ID`: end a client's session, through the admin server.
import { adminClient, adminHelp, parseAdminArgs } from '../admin-client.js';
import { CliError } from '../cli-error.js';

export const CLOSE_CONNECTION_HELP = adminHelp(
  `Usage: stompede close-connection ID [options]

Close the connection ID (its session id: 'stompede list connections' shows them). The client
gets an ERROR frame, "closed by an administrator", with the reason when one is given; its
unacknowledged messages go back to their queues.
`,
  `  --reason TEXT       why, sent to the client in the ERROR (at most 200 characters)
`,
);

export async function runCloseConnection(argv: readonly string[]): Promise<number> {
  const parsed = parseAdminArgs('close-connection', CLOSE_CONNECTION_HELP, argv, {
    reason: { type: 'string' },
  });
  if (parsed === 'help') return 0;
  const [id, ...extra] = parsed.positionals;
  if (id === undefined || extra.length > 0)
    throw new CliError(`name one connection to close\n\n${CLOSE_CONNECTION_HELP}`);
  const admin = adminClient(parsed.values, process.env);
  await admin.post('/api/connections/close', {
    id,
    ...(parsed.values.reason === undefined ? {} : { reason: parsed.values.reason }),
  });
  process.stdout.write(`closed connection ${id}\n`);
  return 0;
}
