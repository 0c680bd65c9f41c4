#!/usr/bin/env node
// Drive a STOMP server over WebSocket with @stomp/stompjs inside a real headless Chromium (Debian's
// /usr/bin/chromium, driven by playwright-core; no browser download). A local HTTP server on
// 127.0.0.1, port 0, serves index.html, the stompjs UMD bundle from node_modules and the shared
// cases (../clients/stompjs-cases.mjs); the page runs them with the browser's own WebSocket and
// reports each result through an exposed function.
//
// Usage: node interop/browser/stompjs-browser-driver.mjs --url ws://127.0.0.1:15683/ws
//          [--login L --passcode P] [--vhost /] [--versions 1.0,1.1,1.2] [--cases a,b]
//          [--nack-dlq Q] [--auth-login L --auth-passcode P] [--chromium /usr/bin/chromium]
//          [--page-port N]   (the page's port, so its origin http://127.0.0.1:N; default any: a
//          broker with a WebSocket Origin allow-list must list it, see run.mjs)
// durable_restart: the page asks through an exposed function, which speaks lib/restart.mjs's
// handshake with run.mjs on this process's stdout/stdin.
// Prints one JSON object per line: {"client": "stompjs-browser", "version", "case", "status",
// "detail"}. Exits 1 when any case fails, 3 when the browser cannot be started.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { parseArgs, list } from '../lib/args.mjs';
import { requestBrokerRestart } from '../lib/restart.mjs';

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
  chromium: '/usr/bin/chromium',
  'page-port': '0',
});
if (!args.url) {
  console.error(
    'usage: stompjs-browser-driver.mjs --url ws://HOST:PORT/PATH [--login L --passcode P] [--vhost V]',
  );
  process.exit(2);
}

const require = createRequire(import.meta.url);
const files = {
  '/': { path: fileURLToPath(new URL('./index.html', import.meta.url)), type: 'text/html' },
  '/stomp.umd.js': { path: require.resolve('@stomp/stompjs'), type: 'text/javascript' },
  '/stompjs-cases.mjs': {
    path: fileURLToPath(new URL('../clients/stompjs-cases.mjs', import.meta.url)),
    type: 'text/javascript',
  },
};

const server = createServer((req, res) => {
  const path = new URL(req.url ?? '/', 'http://x').pathname;
  if (path === '/favicon.ico') {
    res.writeHead(204).end();
    return;
  }
  const file = files[path];
  if (!file) {
    res.writeHead(404).end();
    return;
  }
  readFile(file.path).then(
    (body) =>
      res.writeHead(200, { 'content-type': file.type, 'cache-control': 'no-store' }).end(body),
    (err) => res.writeHead(500).end(String(err)),
  );
});
await new Promise((resolve) => server.listen(Number(args['page-port']), '127.0.0.1', resolve));
const pageUrl = `http://127.0.0.1:${server.address().port}/`;

let browser;
try {
  browser = await chromium.launch({
    executablePath: args.chromium,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    timeout: 60000,
  });
} catch (err) {
  console.error(`stompjs-browser: cannot start ${args.chromium}: ${err.message}`);
  server.close();
  process.exit(3);
}
console.error(`stompjs-browser: Chromium ${browser.version()}, page ${pageUrl}`);

let ok = true;
let exitCode = 0;
try {
  const page = await browser.newPage();
  // Browsers hide WebSocket failure reasons from the page; Chromium logs them to the console.
  // Console errors seen during a case are appended to that case's detail when it fails.
  let consoleErrors = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error' || msg.type() === 'warning') {
      console.error(`stompjs-browser: console.${msg.type()}: ${msg.text()}`);
      consoleErrors.push(msg.text());
    }
  });
  page.on('pageerror', (err) => console.error(`stompjs-browser: page error: ${err.message}`));
  await page.exposeFunction('reportInteropResult', (result) => {
    if (result.status === 'fail') {
      ok = false;
      const seen = [...new Set(consoleErrors)];
      if (seen.length > 0) result.detail += ` [browser console: ${seen.join(' | ')}]`;
    }
    consoleErrors = [];
    process.stdout.write(`${JSON.stringify(result)}\n`);
  });
  await page.exposeFunction('interopRestartBroker', (version) =>
    requestBrokerRestart((line) => process.stdout.write(`${line}\n`), 'stompjs-browser', version),
  );
  await page.goto(pageUrl);
  await page.waitForFunction(() => globalThis.interopReady === true, null, { timeout: 30000 });
  const passed = await page.evaluate((opts) => globalThis.runInterop(opts), {
    url: args.url,
    login: args.login,
    passcode: args.passcode,
    vhost: args.vhost,
    versions: list(args.versions),
    cases: list(args.cases),
    nackDlq: args['nack-dlq'],
    authLogin: args['auth-login'],
    authPasscode: args['auth-passcode'],
  });
  exitCode = passed && ok ? 0 : 1;
} catch (err) {
  console.error(`stompjs-browser: ${err.stack ?? err}`);
  exitCode = 1;
} finally {
  await browser.close();
  server.close();
}
process.exit(exitCode);
