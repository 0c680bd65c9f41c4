// `stompede passwd`: print a salted scrypt hash of a password, for `users.NAME.password` and
// `admin.password` in the broker's configuration file.
import { DEFAULT_SCRYPT, hashPassword } from '@stompede/broker';
import { CliError, parseCommandArgs } from '../cli-error.js';

export const PASSWD_HELP = `Usage: stompede passwd [options]

Print a salted password hash (scrypt$N$r$p$salt$hash) for the broker's configuration file:

  users:
    alice:
      password: "scrypt$16384$8$1$..."

On a terminal the password is asked twice, without echo. Otherwise it is the first line of
standard input:  printf '%s\\n' "$PASSWORD" | stompede passwd

Options:
  --cost N     scrypt N, a power of two from 1024 to 1048576   (16384)
  -h, --help   show this help
`;

/** Read a line from a terminal without echoing it. */
function readHidden(prompt: string): Promise<string> {
  const stdin = process.stdin;
  return new Promise((resolve, reject) => {
    process.stderr.write(prompt);
    let value = '';
    stdin.setRawMode(true);
    stdin.resume();
    stdin.setEncoding('utf8');
    const done = (err?: Error): void => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (err === undefined) resolve(value);
      else reject(err);
    };
    const onData = (chunk: string): void => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') {
          done();
          return;
        }
        if (ch === '\u0003') {
          done(new CliError('cancelled', 130));
          return;
        }
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else value += ch;
      }
    };
    stdin.on('data', onData);
  });
}

async function readPiped(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  const nl = text.indexOf('\n');
  return (nl === -1 ? text : text.slice(0, nl)).replace(/\r$/, '');
}

/** Run `stompede passwd`. */
export async function runPasswd(argv: readonly string[]): Promise<number> {
  const { values } = parseCommandArgs('passwd', {
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: { cost: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help === true) {
    process.stdout.write(PASSWD_HELP);
    return 0;
  }
  const N = values.cost === undefined ? DEFAULT_SCRYPT.N : Number(values.cost);
  if (!Number.isSafeInteger(N) || N < 1024 || N > 1 << 20 || (N & (N - 1)) !== 0) {
    throw new CliError('--cost must be a power of two from 1024 to 1048576');
  }
  let password: string;
  if (process.stdin.isTTY) {
    password = await readHidden('Password: ');
    const again = await readHidden('Again: ');
    if (again !== password) throw new CliError('the passwords differ', 1);
  } else {
    password = await readPiped();
  }
  if (password === '') throw new CliError('the password is empty', 1);
  process.stdout.write(`${await hashPassword(password, { ...DEFAULT_SCRYPT, N })}\n`);
  return 0;
}
