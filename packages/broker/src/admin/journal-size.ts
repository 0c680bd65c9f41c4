// The size of the journal's files, for the overview's disk panel: read from the directory (any
// engine, any store layout under DIR/journal), never from the store's internals.
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** Bytes of the files in `dataDir/journal`; null when there is no such directory. */
export async function journalBytes(dataDir: string | undefined): Promise<number | null> {
  if (dataDir === undefined) return null;
  const dir = join(dataDir, 'journal');
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return null;
  }
  let total = 0;
  for (const name of names) {
    try {
      const s = await stat(join(dir, name));
      if (s.isFile()) total += s.size;
    } catch {
      // A segment removed by compaction between readdir and stat: it holds nothing now.
    }
  }
  return total;
}
