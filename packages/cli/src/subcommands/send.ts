// `stompede send DEST [BODY]`: one message, or one message per line of standard input, each
// confirmed by a RECEIPT. Bulk sends keep a window of receipts in flight and report progress.
import { createInterface } from 'node:readline';
import { CliError } from '../cli-error.js';
import {
  clientHelp,
  connectClient,
  connectionSettings,
  describeFailure,
  parseClientArgs,
  parseHeaders,
} from '../connection-flags.js';
import { Progress } from '../progress.js';

export const SEND_HELP = clientHelp(
  `Usage: stompede send DEST [BODY] [options]

Send BODY to DEST (e.g. /queue/orders, /topic/news) and wait for the broker's RECEIPT.
Without BODY, send one message per line of standard input, each with a receipt; progress goes
to stderr once a second and a summary at the end.
`,
  `  --content-type T    content-type header (default text/plain;charset=utf-8)
  --persistent        add persistent:true (durable on brokers that support it)
  --header K:V        add a header to every SEND; repeatable
  --window N          receipts in flight at once when reading stdin   (100)
  --quiet             no progress or summary on stderr
`,
);

export async function runSend(argv: readonly string[]): Promise<number> {
  const parsed = parseClientArgs('send', SEND_HELP, argv, {
    'content-type': { type: 'string' },
    persistent: { type: 'boolean' },
    header: { type: 'string', multiple: true },
    window: { type: 'string' },
    quiet: { type: 'boolean' },
  });
  if (parsed === 'help') return 0;
  const { values, positionals } = parsed;
  const [destination, body, ...extra] = positionals;
  if (destination === undefined) throw new CliError(`a destination is required\n\n${SEND_HELP}`);
  if (extra.length > 0) throw new CliError('too many arguments: quote the body if it has spaces');
  const window = Number(values.window ?? '100');
  if (!Number.isInteger(window) || window < 1)
    throw new CliError('--window must be a positive integer');
  const headers = parseHeaders(values.header);
  if (values.persistent === true) headers.push(['persistent', 'true']);
  const contentType = values['content-type'] ?? 'text/plain;charset=utf-8';
  const settings = connectionSettings(values, process.env);
  const url = settings.url;

  const client = await connectClient(settings);
  const send = (text: string): Promise<void> =>
    client.send(destination, text, { headers, contentType, receipt: true });
  try {
    if (body !== undefined) {
      await send(body);
      if (values.quiet !== true) process.stderr.write(`sent 1 message to ${destination}\n`);
    } else {
      const progress = new Progress('sent', values.quiet === true);
      const inFlight = new Set<Promise<void>>();
      let failure: unknown;
      const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
      for await (const line of lines) {
        if (failure !== undefined) break;
        const pending = send(line).then(
          () => {
            progress.tick();
          },
          (err: unknown) => {
            failure ??= err;
          },
        );
        inFlight.add(pending);
        void pending.finally(() => inFlight.delete(pending));
        if (inFlight.size >= window) await Promise.race(inFlight);
      }
      await Promise.all(inFlight);
      progress.done(`to ${destination}`);
      if (failure !== undefined) throw describeFailure(failure, url);
    }
    await client.close();
  } catch (err) {
    client.destroy();
    throw describeFailure(err, url);
  }
  return 0;
}
