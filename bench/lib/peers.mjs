// What the bench knows about the third-party brokers of interop/peers/ beyond their ports.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The Artemis version interop/peers/artemis.sh runs (ARTEMIS_VERSION, else the script's default). */
export function artemisVersion() {
  if (process.env.ARTEMIS_VERSION) return process.env.ARTEMIS_VERSION;
  try {
    const script = readFileSync(join(root, 'interop', 'peers', 'artemis.sh'), 'utf8');
    return /ARTEMIS_VERSION:-([0-9.]+)/.exec(script)?.[1];
  } catch {
    return undefined;
  }
}
