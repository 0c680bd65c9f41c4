// The client against a real RabbitMQ (interop/peers/rabbitmq.sh): STOMP on 127.0.0.1:61633 and
// Web-STOMP on ws://127.0.0.1:15683/ws, guest/guest, virtual host "/". Skipped with a reason
// when RabbitMQ is not running, unless STOMPEDE_PEERS=1 makes a missing peer a failure.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import {
  connect,
  ErrorCode,
  nodeTransport,
  StompServerError,
  type WebSocketConstructor,
} from '@stompede/client/node';
import { WebSocket } from 'ws';
import { clientScenarios, unreachable } from '../scenarios.js';

const host = '127.0.0.1';
const stompPort = Number(process.env.RABBITMQ_STOMP_PORT ?? 61633);
const wsPort = Number(process.env.RABBITMQ_WS_PORT ?? 15683);
const required = process.env.STOMPEDE_PEERS === '1';
const login = { login: 'guest', passcode: 'guest', host: '/' } as const;
const webSocket = {
  transport: nodeTransport({ WebSocket: WebSocket as unknown as WebSocketConstructor }),
};

// RabbitMQ: NACK requeues the message, which comes back to the subscription (redelivered:true).
clientScenarios({
  name: 'rabbitmq/tcp',
  url: () => `tcp://${host}:${String(stompPort)}`,
  options: () => login,
  nack: { redeliver: true },
  required,
  unavailable: () => unreachable(host, stompPort),
});

clientScenarios({
  name: 'rabbitmq/web-stomp',
  url: () => `ws://${host}:${String(wsPort)}/ws`,
  options: () => ({ ...login, ...webSocket }),
  nack: { redeliver: true },
  // RabbitMQ Web-STOMP sends every frame as a text WebSocket message by default, even a body
  // that is not UTF-8, which RFC 6455 forbids: `ws` and browsers then close the connection.
  // interop/peers/rabbitmq.sh sets web_stomp.ws_frame = binary, under which the binary scenario
  // passes unchanged; with the default it fails (ERR_STOMP_CONNECTION_LOST, never a corrupted
  // body).
  required,
  unavailable: () => unreachable(host, wsPort),
});

// RabbitMQ names no code in its ERROR frames: its refusals are recognised by their text.
describe('rabbitmq refusals, by code', () => {
  let skip: string | undefined;
  before(async () => {
    skip = await unreachable(host, stompPort);
  });
  const refusals = [
    ['a wrong passcode', { ...login, passcode: 'wrong' }, ErrorCode.AUTHENTICATION_FAILED],
    ['an unknown virtual host', { ...login, host: '/no-such-vhost' }, ErrorCode.FORBIDDEN],
  ] as const;
  for (const [what, options, code] of refusals) {
    it(`[1.2 ERROR] ${what} rejects connect() with ${code}`, async (t) => {
      if (skip !== undefined) {
        if (required) assert.fail(`rabbitmq is required: ${skip}`);
        t.skip(skip);
        return;
      }
      await assert.rejects(
        connect(`tcp://${host}:${String(stompPort)}`, { ...options, heartBeat: [0, 0] }),
        (err: unknown) => err instanceof StompServerError && err.code === code,
      );
    });
  }
});
