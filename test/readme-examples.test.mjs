// Every ```js block in README.md is a runnable ES module: this test extracts each one, runs it
// with node from the repository root (so `@stompede/*` imports resolve to the built packages),
// and fails if it exits non-zero. A block may state its expected output with lines of the form
// `// prints: TEXT`, which must appear in its stdout in that order.

import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const root = new URL('..', import.meta.url).pathname;
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const blocks = [...readme.matchAll(/^```js\n([\s\S]*?)^```$/gm)].map((m) => m[1]);

describe('README.md examples', () => {
  it('has runnable examples', () => {
    assert.ok(blocks.length > 0, 'README.md has no ```js blocks');
  });
  const dir = mkdtempSync(join(root, '.readme-examples-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  blocks.forEach((code, index) => {
    const title = code.split('\n').find((line) => line.startsWith('//')) ?? `block ${index + 1}`;
    it(`example ${index + 1}: ${title.replace(/^\/\/\s*/, '')}`, () => {
      const file = join(dir, `example-${index + 1}.mjs`);
      writeFileSync(file, code);
      const run = spawnSync(process.execPath, [file], {
        cwd: root,
        encoding: 'utf8',
        timeout: 30_000,
      });
      assert.equal(
        run.status,
        0,
        `example exited with ${run.status}\n${run.stdout}\n${run.stderr}`,
      );
      let from = 0;
      for (const [, expected] of code.matchAll(/\/\/ prints: (.*)$/gm)) {
        const at = run.stdout.indexOf(expected, from);
        assert.ok(
          at !== -1,
          `expected output ${JSON.stringify(expected)} not found in:\n${run.stdout}`,
        );
        from = at + expected.length;
      }
    });
  });
});
