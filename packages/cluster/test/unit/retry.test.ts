import assert from 'node:assert/strict';
import { test } from 'node:test';
import { transient } from '@stompede/cluster/internal';

// What JetStream answers while a cluster forms or elects leaders is worth retrying; what a
// retry cannot change (a conflicting configuration, a full server, a refused permission) is not.
// Node start and every API call decide with the same rule, so a node started together with its
// NATS servers waits for them instead of exiting.
test('errors of a forming cluster are transient', () => {
  for (const message of [
    'no suitable peers for placement',
    'JetStream system temporarily unavailable',
    'TimeoutError: timeout',
    '503 no responders available for request',
    'JetStream not enabled',
    'stream leader not found',
    'connection closed',
  ]) {
    assert.equal(transient(new Error(message)), true, message);
  }
});

test('errors a retry cannot cure are not transient', () => {
  for (const message of [
    'stream name already in use with a different configuration',
    'insufficient resources',
    'Permissions Violation for Publish to "$JS.API.STREAM.CREATE.x"',
    'maximum payload exceeded',
  ]) {
    assert.equal(transient(new Error(message)), false, message);
  }
});
