import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ErrorCode, StompError } from '@stompede/core';
import { CLUSTER_DEFAULTS, parseServers, resolveClusterOptions } from '@stompede/cluster';

function refused(options: Parameters<typeof resolveClusterOptions>[0], text: RegExp): void {
  assert.throws(
    () => resolveClusterOptions(options),
    (err: unknown) =>
      err instanceof StompError &&
      err.code === ErrorCode.INVALID_ARGUMENT &&
      text.test(err.message),
  );
}

describe('cluster options', () => {
  test('defaults are filled in and the result is frozen', () => {
    const o = resolveClusterOptions({ servers: ['nats://127.0.0.1:4222'] });
    assert.equal(o.replicas, CLUSTER_DEFAULTS.replicas);
    assert.equal(o.prefix, 'stompede');
    assert.equal(o.queueShards, 3);
    assert.equal(o.ackWait, 30_000);
    assert.ok(Object.isFrozen(o));
  });

  test('--cluster text splits on commas and ignores blanks', () => {
    assert.deepEqual(parseServers('nats://a:1, nats://b:2,,'), ['nats://a:1', 'nats://b:2']);
  });

  test('bad values are refused with a message naming the key', () => {
    refused({ servers: [] }, /servers/);
    refused({ servers: ['http://x:1'] }, /nats:\/\//);
    refused({ servers: ['nats://x:1'], replicas: 2 }, /replicas must be odd/);
    refused({ servers: ['nats://x:1'], replicas: 7 }, /replicas/);
    refused({ servers: ['nats://x:1'], prefix: 'a.b' }, /prefix/);
    refused({ servers: ['nats://x:1'], queueShards: 0 }, /queueShards/);
    refused({ servers: ['nats://x:1'], ackWait: 10 }, /ackWait/);
    refused({ servers: ['nats://x:1'], auth: { user: 'u' } }, /user and password/);
    refused({ servers: ['nats://x:1'], auth: { token: 't', credsFile: 'f' } }, /one of/);
    refused({ servers: ['nats://x:1'], tls: { certFile: 'c' } }, /certFile and keyFile/);
    refused(
      { servers: ['nats://x:1'], publishTimeout: 60_000, duplicateWindow: 60_000 },
      /duplicateWindow/,
    );
  });

  test('host:port without a scheme is accepted (as nats://)', () => {
    assert.deepEqual(resolveClusterOptions({ servers: ['127.0.0.1:4222'] }).servers, [
      '127.0.0.1:4222',
    ]);
  });
});
