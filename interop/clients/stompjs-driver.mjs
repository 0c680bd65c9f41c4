#!/usr/bin/env node
// Drive a STOMP server over WebSocket with @stomp/stompjs in Node (stompjs is WebSocket-only, so
// this is its only transport), with the `ws` package as the WebSocket implementation.
//
// Usage: node interop/clients/stompjs-driver.mjs --url ws://127.0.0.1:15683/ws
//          [--login L --passcode P] [--vhost /] [--versions 1.0,1.1,1.2] [--cases a,b]
//          [--nack-dlq /queue/ActiveMQ.DLQ]   (see the nack case in stompjs-cases.mjs)
//          [--auth-login L --auth-passcode P]   (the login case's user; default --login/--passcode)
// Prints one JSON object per line: {"client": "stompjs", "version", "case", "status", "detail"}
// (the same cases as stomppy_driver.py, see stompjs-cases.mjs). Exits 1 when any case fails.
import { Client, Versions } from '@stomp/stompjs';
import WebSocket from 'ws';
import { parseArgs, list } from '../lib/args.mjs';
import { requestBrokerRestart } from '../lib/restart.mjs';
import { runStompjsCases } from './stompjs-cases.mjs';

const args = parseArgs(process.argv.slice(2), {
  url: undefined,
  login: undefined,
  passcode: undefined,
  vhost: undefined,
  versions: undefined,
  cases: undefined,
  'nack-dlq': undefined,
  'auth-login': undefined,
  'auth-passcode': undefined,
});
if (!args.url) {
  console.error(
    'usage: stompjs-driver.mjs --url ws://HOST:PORT/PATH [--login L --passcode P] [--vhost V]',
  );
  process.exit(2);
}

const ok = await runStompjsCases({
  clientName: 'stompjs',
  Client,
  Versions,
  makeWebSocket: () => new WebSocket(args.url, ['v12.stomp', 'v11.stomp', 'v10.stomp']),
  login: args.login,
  passcode: args.passcode,
  vhost: args.vhost,
  versions: list(args.versions),
  cases: list(args.cases),
  nackDlq: args['nack-dlq'],
  authLogin: args['auth-login'],
  authPasscode: args['auth-passcode'],
  restartBroker: (version) =>
    requestBrokerRestart((line) => process.stdout.write(`${line}\n`), 'stompjs', version),
  report: (result) => {
    process.stdout.write(`${JSON.stringify(result)}\n`);
  },
});
process.exit(ok ? 0 : 1);
