// The broker's log formats: JSON lines for collectors, readable lines for people.
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { createLogger, isPretty } from '../../dist/logger.js';
import { mergeConfig } from '../../dist/config/effective.js';

function logged(format: 'auto' | 'json' | 'pretty', isTTY: boolean): string {
  const file = join(mkdtempSync(join(tmpdir(), 'stompede-log-')), 'out.log');
  const fd = openSync(file, 'w');
  const logger = createLogger('info', format, { isTTY, fd });
  logger.info({ listeners: ['tcp://127.0.0.1:61613'] }, 'broker listening');
  logger.debug('below the level');
  logger.flush();
  closeSync(fd);
  return readFileSync(file, 'utf8');
}

describe('log format', () => {
  test('auto: readable lines on a terminal, JSON otherwise', () => {
    assert.equal(isPretty('auto', { isTTY: true, fd: 1 }), true);
    assert.equal(isPretty('auto', { isTTY: false, fd: 1 }), false);
    assert.equal(isPretty('auto', { fd: 1 }), false);
    assert.equal(isPretty('json', { isTTY: true, fd: 1 }), false);
    assert.equal(isPretty('pretty', { isTTY: false, fd: 1 }), true);
  });

  test('json: one JSON object per line, with level, time, pid and msg', () => {
    const lines = logged('json', true).trim().split('\n');
    assert.equal(lines.length, 1);
    const line = JSON.parse(lines[0]!) as Record<string, unknown>;
    assert.equal(line.msg, 'broker listening');
    assert.equal(line.level, 30);
    assert.equal(line.pid, process.pid);
    assert.deepEqual(line.listeners, ['tcp://127.0.0.1:61613']);
  });

  test('pretty: a timestamped INFO line and the fields below it, without colour off a terminal', () => {
    const text = logged('pretty', false);
    assert.match(text, /^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\] INFO: broker listening\n/);
    assert.match(text, /listeners: \[\n\s+"tcp:\/\/127\.0\.0\.1:61613"/);
    assert.ok(!text.includes('\u001b['), 'no ANSI colours in a file');
    assert.doesNotMatch(text, /below the level/);
    assert.throws(() => JSON.parse(text));
  });

  test('--log-format, STOMPEDE_LOG_FORMAT and logFormat in the file; auto by default', () => {
    assert.equal(mergeConfig({}, {}, {}).config.logFormat, 'auto');
    assert.equal(mergeConfig({ logFormat: 'json' }, {}, {}).config.logFormat, 'json');
    assert.equal(
      mergeConfig({ logFormat: 'json' }, {}, { STOMPEDE_LOG_FORMAT: 'pretty' }).config.logFormat,
      'pretty',
    );
    assert.equal(
      mergeConfig({}, { 'log-format': 'json' }, { STOMPEDE_LOG_FORMAT: 'pretty' }).config.logFormat,
      'json',
    );
    assert.throws(
      () => mergeConfig({}, { 'log-format': 'colour' }, {}),
      /--log-format must be one of auto, json, pretty/,
    );
  });
});
