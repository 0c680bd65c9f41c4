// Every ```js block in README.md and docs/*.md (but ```js browser, code for a page: see
// browser-page.test.mjs) is a runnable ES module: this test extracts each
// one, runs it with node from the repository root (so `@stompede/*` imports resolve to the built
// packages), and fails if it exits non-zero. A block states its output with lines of the form
// `// prints: TEXT` (`// prints:` alone for an empty line): its stdout must be exactly those
// lines, in that order, and nothing else. A block whose first line is `// NAME.test.mjs: ...` is a
// test file (such as an engine's conformance run): it runs with `node --test` and must pass.

import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { codeBlocks, documents, root } from './lib/markdown.mjs';

const examples = documents().flatMap((doc) =>
  codeBlocks(doc)
    .filter((b) => b.lang === 'js' && b.meta !== 'browser')
    .map((b) => ({ doc, ...b })),
);

describe('JavaScript examples of README.md and docs/', () => {
  it('has runnable examples', () => {
    assert.ok(
      examples.some((e) => e.doc === 'README.md'),
      'README.md has no ```js blocks',
    );
  });
  const dir = mkdtempSync(join(root, '.readme-examples-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  examples.forEach(({ doc, line, text: code }, index) => {
    const title = code.split('\n').find((l) => l.startsWith('//')) ?? 'example';
    it(`${doc}:${line} ${title.replace(/^\/\/\s*/, '')}`, () => {
      const testFile = /^\/\/ ([\w.-]+\.test\.mjs)\b/.exec(code)?.[1];
      const file = join(
        dir,
        `example-${index + 1}${testFile === undefined ? '.mjs' : '.test.mjs'}`,
      );
      writeFileSync(file, code);
      const argv = testFile === undefined ? [file] : ['--test', '--test-reporter=dot', file];
      const run = spawnSync(process.execPath, argv, {
        cwd: root,
        encoding: 'utf8',
        timeout: 30_000,
      });
      assert.equal(
        run.status,
        0,
        `example exited with ${run.status}\n${run.stdout}\n${run.stderr}`,
      );
      if (testFile !== undefined) return;
      const expected = [...code.matchAll(/\/\/ prints:(?: (.*))?$/gm)].map((m) => m[1] ?? '');
      const printed = run.stdout.split('\n');
      if (printed.at(-1) === '') printed.pop();
      assert.deepEqual(printed, expected, `stdout differs from the // prints: lines`);
    });
  });
});
