// Every ```yaml block of README.md and docs/*.md is a configuration `stompede broker --config`
// accepts: checked with the CLI's own loader (the schema, and the names of users, groups and
// virtual hosts), so a documented key or value that the broker would refuse fails here.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { parseConfig } from '../packages/cli/dist/config/load.js';
import { codeBlocks, documents } from './lib/markdown.mjs';

describe('configuration examples in the docs', () => {
  const examples = documents().flatMap((doc) =>
    codeBlocks(doc)
      .filter((b) => b.lang === 'yaml')
      .map((b) => ({ doc, ...b })),
  );
  it('has examples', () => assert.ok(examples.length > 0));
  for (const { doc, line, text } of examples) {
    it(`${doc}:${line} is a valid configuration`, () => {
      // Line numbers in errors are the document's.
      const padded = '\n'.repeat(line - 1) + text;
      try {
        parseConfig(padded, doc, '/srv');
      } catch (err) {
        assert.fail(err.message);
      }
    });
  }
});
