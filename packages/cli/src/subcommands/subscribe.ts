// `stompede subscribe DEST`: print each message body on its own line (or each frame as a JSON
// line), acknowledging a message only after its output was written.
import type { Message } from '@stompede/client/node';
import { CliError } from '../cli-error.js';
import {
  clientHelp,
  connectClient,
  connectionSettings,
  describeFailure,
  parseClientArgs,
  parseHeaders,
} from '../connection-flags.js';

export const SUBSCRIBE_HELP = clientHelp(
  `Usage: stompede subscribe DEST [options]

Print each message from DEST (e.g. /queue/orders, /topic/news.>) on standard output, one body
per line, until interrupted or --count messages arrived. In client ack modes a message is
acknowledged once its line is written.
`,
  `  --count N           exit after N messages (each acknowledged once printed: no message is
                      lost to the ones the broker sent ahead)
  --ack MODE          auto | client | client-individual   (auto; client-individual with --count)
  --prefetch N        unacknowledged messages the broker may send ahead (client modes;
                      --count N by default)
  --header K:V        add a header to the SUBSCRIBE frame; repeatable
  --json              print each frame as a JSON line: {"command","headers","body"}
                      (bodies that are not UTF-8 text come as "bodyBase64")
  --quiet             no summary on stderr
`,
);

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** One JSON line for a message: headers as an object (the first of repeated headers wins). */
export function messageJson(message: Message): string {
  const headers: Record<string, string> = {};
  for (const [name, value] of message.headers) if (!(name in headers)) headers[name] = value;
  let text: string | undefined;
  try {
    text = utf8.decode(message.body);
  } catch {
    text = undefined;
  }
  const body =
    text === undefined
      ? { bodyBase64: Buffer.from(message.body).toString('base64') }
      : { body: text };
  return JSON.stringify({ command: 'MESSAGE', headers, ...body });
}

function write(text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    if (process.stdout.write(text)) resolve();
    else {
      process.stdout.once('drain', resolve);
      process.stdout.once('error', reject);
    }
  });
}

export async function runSubscribe(argv: readonly string[]): Promise<number> {
  const parsed = parseClientArgs('subscribe', SUBSCRIBE_HELP, argv, {
    count: { type: 'string' },
    ack: { type: 'string' },
    prefetch: { type: 'string' },
    header: { type: 'string', multiple: true },
    json: { type: 'boolean' },
    quiet: { type: 'boolean' },
  });
  if (parsed === 'help') return 0;
  const { values, positionals } = parsed;
  const [destination, ...extra] = positionals;
  if (destination === undefined)
    throw new CliError(`a destination is required\n\n${SUBSCRIBE_HELP}`);
  if (extra.length > 0) throw new CliError(`unexpected arguments: ${extra.join(' ')}`);
  const count = values.count === undefined ? Infinity : Number(values.count);
  if (values.count !== undefined && (!/^\d+$/.test(values.count) || count < 1)) {
    throw new CliError('--count must be a positive integer');
  }
  // With --count, messages the broker pushed past the last one would be lost under auto ack:
  // acknowledge each one instead, and let the broker send no more than are wanted.
  const ack = values.ack ?? (count === Infinity ? 'auto' : 'client-individual');
  if (ack !== 'auto' && ack !== 'client' && ack !== 'client-individual') {
    throw new CliError('--ack must be auto, client or client-individual');
  }
  const prefetch =
    values.prefetch === undefined
      ? ack !== 'auto' && count !== Infinity
        ? count
        : undefined
      : Number(values.prefetch);
  if (prefetch !== undefined && (!Number.isInteger(prefetch) || prefetch < 1)) {
    throw new CliError('--prefetch must be a positive integer');
  }
  const headers = parseHeaders(values.header);
  const settings = connectionSettings(values, process.env);
  const url = settings.url;

  const client = await connectClient(settings);
  let received = 0;
  const stop = new AbortController();
  const onSignal = (): void => {
    stop.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const subscription = await client.subscribe(destination, {
      ack,
      receipt: true,
      ...(headers.length === 0 ? {} : { headers }),
      ...(prefetch === undefined ? {} : { prefetch }),
    });
    while (received < count && !stop.signal.aborted) {
      const message = await subscription.receive({ signal: stop.signal }).catch((err: unknown) => {
        if (stop.signal.aborted) return undefined;
        throw err;
      });
      if (message === undefined) break;
      const body = values.json === true ? messageJson(message) : message.text;
      await write(body + '\n');
      if (ack !== 'auto') await message.ack();
      received++;
    }
    await subscription.unsubscribe().catch(() => undefined);
    await client.close();
  } catch (err) {
    client.destroy();
    throw describeFailure(err, url);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  if (values.quiet !== true)
    process.stderr.write(`received ${String(received)} messages from ${destination}\n`);
  return 0;
}
