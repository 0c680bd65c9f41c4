// The broker's heart-beat answer: the client's periods, each way, between the floor and the
// ceiling; the spec's rule (the larger offer wins) then gives the client's own period.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { brokerHeartBeat } from '@stompede/broker/internal';

const BOUNDS = [1000, 60_000] as const;

describe('brokerHeartBeat', () => {
  test('[1.2 Heart-beating] a client asking for 1 s beats both ways gets 1 s both ways', () => {
    assert.deepEqual(brokerHeartBeat(BOUNDS, [1000, 1000]), {
      header: [1000, 1000],
      send: 1000,
      receive: 1000,
    });
  });

  test('[1.2 Heart-beating] 0 in the client header: no beats that way', () => {
    assert.deepEqual(brokerHeartBeat(BOUNDS, [0, 5000]), {
      header: [5000, 0],
      send: 5000,
      receive: 0,
    });
    assert.deepEqual(brokerHeartBeat(BOUNDS, [5000, 0]), {
      header: [0, 5000],
      send: 0,
      receive: 5000,
    });
    assert.deepEqual(brokerHeartBeat(BOUNDS, [0, 0]), { header: [0, 0], send: 0, receive: 0 });
  });

  test('[1.2 Heart-beating] faster than the floor: the floor, both ways', () => {
    assert.deepEqual(brokerHeartBeat(BOUNDS, [200, 100]), {
      header: [1000, 1000],
      send: 1000,
      receive: 1000,
    });
  });

  test('[1.2 Heart-beating] rarer than the ceiling: the broker beats every ceiling, and watches the client at its own period', () => {
    assert.deepEqual(brokerHeartBeat(BOUNDS, [300_000, 120_000]), {
      header: [60_000, 60_000],
      send: 60_000,
      receive: 300_000,
    });
  });

  test('a ceiling of 0 turns heart-beats off', () => {
    assert.deepEqual(brokerHeartBeat([0, 0], [1000, 1000]), {
      header: [0, 0],
      send: 0,
      receive: 0,
    });
  });

  test('a floor of 0 follows any period the client asks for', () => {
    assert.deepEqual(brokerHeartBeat([0, 60_000], [20, 30]), {
      header: [30, 20],
      send: 30,
      receive: 20,
    });
  });
});
