import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isFalseHeader, isTrueHeader } from '@stompede/broker/internal';

describe('boolean headers', () => {
  test("true/false, and stomp.py's True/False; nothing else", () => {
    for (const v of ['true', 'True']) assert.equal(isTrueHeader(v), true, v);
    for (const v of ['false', 'False']) assert.equal(isFalseHeader(v), true, v);
    for (const v of [undefined, '', 'TRUE', 'yes', '1', ' true']) {
      assert.equal(isTrueHeader(v), false, String(v));
      assert.equal(isFalseHeader(v), false, String(v));
    }
  });
});
