/* global document -- the functions given to waitForFunction and evaluate run in the page */
// The README's web page ("In a web page"), in a real headless Chromium (Debian's /usr/bin/chromium
// driven by playwright-core): its files are written as the README shows them, the bundle is made
// with the README's own esbuild command, and both pages (the bundled one, and the one with an
// import map naming only the packages' public entry points) exchange a message with our broker.
// The bundle's gzipped size must be the one the README states. Skipped with a reason when
// Chromium or playwright-core is missing, unless STOMPEDE_BROWSER=1 makes that a failure.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { createBroker } from '@stompede/broker';
import { codeBlocks, fileName, root, shellCommands } from './lib/markdown.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const required = process.env.STOMPEDE_BROWSER === '1';

const readmeText = readFileSync(join(root, 'README.md'), 'utf8');
const blocks = codeBlocks('README.md');
const files = blocks
  .map((b) => ({ name: fileName(b), block: b }))
  .filter((f) => f.name !== undefined && ['js', 'html'].includes(f.block.lang));
const bundleCommand = blocks
  .filter((b) => b.lang === 'sh')
  .flatMap((b) => shellCommands(b))
  .find((c) => c.command.includes('esbuild'));

const TYPES = { '.html': 'text/html', '.js': 'text/javascript' };

/** Serve the scratch folder, and the packages' dist folders under /node_modules/@stompede/. */
function serve(dir, requested) {
  const packages = {
    '/node_modules/@stompede/core/': realpathSync(join(root, 'node_modules/@stompede/core')),
    '/node_modules/@stompede/client/': realpathSync(join(root, 'node_modules/@stompede/client')),
  };
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    if (path === '/favicon.ico') {
      res.writeHead(204).end(); // the browser asks for it; the README's pages have none
      return;
    }
    requested.push(path);
    const prefix = Object.keys(packages).find((p) => path.startsWith(p));
    const base = prefix === undefined ? dir : packages[prefix];
    const file = normalize(join(base, prefix === undefined ? path : path.slice(prefix.length)));
    const type = TYPES[extname(file)];
    if (!file.startsWith(base + sep) || type === undefined || !existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': type }).end(readFileSync(file));
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({ server, url: `http://127.0.0.1:${server.address().port}` });
    });
  });
}

describe("README.md's web page in headless Chromium", () => {
  let skip;
  let dir;
  let broker;
  let wsUrl;
  let http;
  let browser;
  const requested = [];

  before(async () => {
    assert.ok(
      files.some((f) => f.name === 'app.js'),
      'README.md shows no app.js',
    );
    assert.ok(bundleCommand !== undefined, 'README.md shows no esbuild command');
    // Inside the checkout, so that esbuild finds @stompede/client as an installed package.
    dir = mkdtempSync(join(root, '.browser-page-'));
    for (const { name, block } of files) writeFileSync(join(dir, name), block.text + '\n');
    const bundled = spawnSync('bash', ['-o', 'pipefail', '-c', bundleCommand.command], {
      cwd: dir,
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(bundled.status, 0, `${bundleCommand.command}\n${bundled.stdout}${bundled.stderr}`);

    if (!existsSync(CHROMIUM)) {
      skip = `no Chromium at ${CHROMIUM} (apt-get install -y chromium)`;
      return;
    }
    let chromium;
    try {
      ({ chromium } = await import('playwright-core'));
    } catch {
      skip = 'playwright-core is not installed (npm install -D playwright-core)';
      return;
    }
    broker = createBroker({ listeners: [{ protocol: 'ws', port: 0 }] });
    const [ws] = await broker.listen();
    wsUrl = ws.url;
    http = await serve(dir, requested);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'],
    });
  });
  after(async () => {
    await browser?.close();
    http?.server.close();
    await broker?.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('the bundle weighs what the README says (gzipped)', (t) => {
    const bytes = gzipSync(readFileSync(join(dir, 'app.bundle.js'))).length;
    const stated = /about (\d+) KB gzipped/.exec(readmeText);
    assert.ok(stated !== null, 'README.md states no gzipped size ("about N KB gzipped")');
    const kib = bytes / 1024;
    t.diagnostic(`app.bundle.js: ${bytes} bytes gzipped (${kib.toFixed(1)} KiB)`);
    assert.ok(
      Math.abs(kib - Number(stated[1])) <= Number(stated[1]) * 0.1,
      `README.md says about ${stated[1]} KB gzipped; the bundle is ${kib.toFixed(1)} KiB: update it`,
    );
  });

  for (const page of ['bundled.html', 'index.html']) {
    it(`${page} exchanges a message with our broker`, async (t) => {
      assert.ok(
        files.some((f) => f.name === page),
        `README.md shows no ${page}`,
      );
      if (skip !== undefined) {
        if (required) assert.fail(`the browser test is required (STOMPEDE_BROWSER=1): ${skip}`);
        return t.skip(skip);
      }
      requested.length = 0;
      const tab = await browser.newPage();
      const problems = [];
      let pageError;
      const crashed = new Promise((resolve) => (pageError = resolve));
      tab.on('pageerror', (err) => {
        problems.push(`page error: ${err.message}`);
        pageError(err);
      });
      tab.on('console', (m) => {
        if (m.type() === 'error') problems.push(`console: ${m.text()}`);
      });
      try {
        await tab.goto(`${http.url}/${page}?broker=${encodeURIComponent(wsUrl)}`);
        // The page shows the message, or fails at its first error (a module it cannot load).
        const shown = tab.waitForFunction(
          () => document.querySelector('output')?.textContent === 'hello from the page',
          undefined,
          { timeout: 20_000 },
        );
        shown.catch(() => undefined); // settled below, or moot once the page crashed
        await Promise.race([shown, crashed]).catch(() => undefined);
        const text = await tab.evaluate(() => document.querySelector('output')?.textContent);
        assert.equal(text, 'hello from the page', problems.join('\n'));
        assert.deepEqual(problems, []);
        // Only public entry points: no import of a package's ./internal.
        assert.ok(!requested.some((p) => p.includes('internal')), requested.join('\n'));
        if (page === 'index.html') {
          assert.ok(requested.includes('/node_modules/@stompede/client/dist/index.js'));
          assert.ok(requested.includes('/node_modules/@stompede/core/dist/index.js'));
        } else {
          assert.ok(!requested.some((p) => p.startsWith('/node_modules/')), requested.join('\n'));
        }
      } finally {
        await tab.close();
      }
    });
  }
});
