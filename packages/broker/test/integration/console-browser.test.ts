// The management console in headless Chromium (playwright-core, /usr/bin/chromium): every page
// and every action, on a desk-sized and a phone-sized screen, against a real broker. Runs with
// STOMPEDE_BROWSER=1; skipped otherwise, saying why. Waits are locator waits with deadlines, never
// sleeps: the console refreshes every 100 ms here and the broker samples every 50 ms.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { type Broker, createBroker, hashPassword } from '@stompede/broker';
import { ErrorCode } from '@stompede/core';
import { type Peer, connected } from '../helper.js';

const enabled = process.env.STOMPEDE_BROWSER === '1';
const FAST = { N: 1024, r: 8, p: 1 };
const WAIT = { timeout: 15_000 };
/** Where to save the screenshots docs/console.md shows (`STOMPEDE_SCREENSHOTS=docs/console`). */
const SHOTS = process.env.STOMPEDE_SCREENSHOTS;

async function launch(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
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
  });
}

describe(
  'management console in a browser',
  { skip: enabled ? false : 'set STOMPEDE_BROWSER=1 to run it (needs /usr/bin/chromium)' },
  () => {
    let broker: Broker;
    let browser: Browser;
    let context: BrowserContext;
    let page: Page;
    let base = '';
    const peers: Peer[] = [];
    const open = async (route: string): Promise<void> => {
      await page.goto(`${base}/?interval=100${route}`);
    };

    before(async () => {
      broker = createBroker({
        listeners: [],
        errorLinger: 100,
        closeTimeout: 500,
        users: {
          alice: { password: await hashPassword('alice-pw', FAST), groups: ['producers'] },
        },
        allowAnonymous: true,
        permissions: [
          {
            group: 'producers',
            destinations: '/queue/orders.>',
            rights: ['read', 'write', 'create'],
          },
          { user: 'anonymous', destinations: '>', rights: 'all' },
        ],
        admin: {
          port: 0,
          user: 'ops',
          password: await hashPassword('s3cret', FAST),
          sampleInterval: 50,
        },
      });
      await broker.listen();
      base = broker.adminUrl!;
      browser = await launch();
      context = await browser.newContext({
        httpCredentials: { username: 'ops', password: 's3cret' },
        viewport: { width: 1280, height: 900 },
      });
      page = await context.newPage();
    });

    after(async () => {
      for (const p of peers) p.close();
      await browser.close();
      await broker.close();
    });

    const shot = async (p: Page, name: string): Promise<void> => {
      if (SHOTS !== undefined) await p.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
    };

    const peer = async (): Promise<Peer> => {
      const p = await connected(broker);
      peers.push(p);
      return p;
    };

    test('[Console overview] tiles, the rate chart with history, single node, errors by code', async () => {
      const p = await peer();
      for (let i = 0; i < 5; i++) await p.sendSync('SEND', { destination: '/queue/overview' }, 'x');
      const bad = await peer();
      bad.send('SEND', { destination: '/nowhere' });
      await bad.next('ERROR');
      await open('#/');
      await page.locator('#connections-count', { hasText: /^\d+$/ }).waitFor(WAIT);
      await page.locator('#messages-held', { hasText: '5' }).waitFor(WAIT);
      assert.equal(
        await page.locator('#cluster-state').textContent(),
        'Single node (not clustered).',
      );
      await page.locator('#errors td', { hasText: ErrorCode.INVALID_HEADER_VALUE }).waitFor(WAIT);
      assert.match((await page.locator('#disk-free').textContent()) ?? '', /in memory/);
      assert.equal(await page.locator('nav a[aria-current=page]').textContent(), 'Overview');
      // The chart is drawn from the server's samples: some pixels are not blank.
      const painted = await page.evaluate<number>(`(() => {
      const c = document.getElementById('rates-chart');
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 3; i < d.length; i += 4) if (d[i] !== 0) n++;
      return n;
    })()`);
      assert.ok(painted > 500, `painted ${String(painted)}`);
      // The legend names the four rates; the window can be changed.
      assert.deepEqual(
        await page.locator('#page figure.chart').first().locator('.legend .key').allTextContents(),
        ['published', 'delivered', 'acked', 'redelivered'],
      );
      await page.selectOption('#window', String(60 * 60_000));
      await shot(page, 'overview');
    });

    test('[Console destinations] sortable, filterable, by kind; a row links to its page', async () => {
      const p = await peer();
      for (const [d, n] of [
        ['/queue/list.a', 1],
        ['/queue/list.b', 3],
        ['/queue/list.c', 2],
      ] as const)
        for (let i = 0; i < n; i++) await p.sendSync('SEND', { destination: d }, 'x');
      await p.sendSync('SUBSCRIBE', { id: 't', destination: '/topic/list.news' });
      await open('#/destinations');
      await page.locator('#destinations tr[data-destination="/queue/list.c"]').waitFor(WAIT);
      await page.fill('#filter', 'list.');
      const names = async (): Promise<string[]> =>
        page.locator('#destinations tbody td.col-name').allTextContents();
      assert.deepEqual(await names(), [
        '/queue/list.a',
        '/queue/list.b',
        '/queue/list.c',
        '/topic/list.news',
      ]);
      // Depth, descending: click twice.
      await page.click('#destinations th[data-key=depth] button');
      await page.click('#destinations th[data-key=depth] button');
      assert.equal(
        await page.getAttribute('#destinations th[data-key=depth]', 'aria-sort'),
        'descending',
      );
      assert.deepEqual((await names()).slice(0, 3), [
        '/queue/list.b',
        '/queue/list.c',
        '/queue/list.a',
      ]);
      await shot(page, 'destinations');
      await page.selectOption('#kind', 'topic');
      assert.deepEqual(await names(), ['/topic/list.news']);
      await page.selectOption('#kind', '');
      await page.fill('#filter', 'no-such-thing');
      await page.locator('.empty', { hasText: 'nothing matches the filter' }).waitFor(WAIT);
      await page.fill('#filter', 'list.b');
      await page.click('#destinations a');
      await page.locator('#destination-name', { hasText: '/queue/list.b' }).waitFor(WAIT);
      assert.equal(await page.locator('#depth').textContent(), '3');
    });

    test('[Console destination] consumers with prefetch and unacked; publish; peek as text, JSON, hex; purge; delete', async () => {
      const c = await peer();
      await c.sendSync('SUBSCRIBE', {
        id: 'w',
        destination: '/queue/work',
        ack: 'client-individual',
        'activemq.prefetchSize': '7',
      });
      await open(`#/destination/${encodeURIComponent('/')}/${encodeURIComponent('/queue/work')}`);
      const row = page.locator('#consumers tbody tr');
      await row.waitFor(WAIT);
      assert.equal(await row.locator('td.col-prefetch').textContent(), '7');
      assert.equal(await row.locator('td.col-ack').textContent(), 'client-individual');
      // Publish a test message from the page: the consumer gets it, unacked.
      await page.fill('#publish-headers', 'content-type:application/json\nx-test:yes');
      await page.fill('#publish-body', '{"order":1}');
      await page.click('#publish');
      await page.locator('#notice.ok', { hasText: 'Published 11 B to /queue/work.' }).waitFor(WAIT);
      const [m] = await c.messages(1);
      assert.equal(m!.text, '{"order":1}');
      assert.equal(m!.header('x-test'), 'yes');
      await page.locator('#consumers td.col-unacked', { hasText: '1' }).waitFor(WAIT);
      // Two more wait in the queue once the consumer is gone.
      c.close();
      const p = await peer();
      await p.sendSync(
        'SEND',
        { destination: '/queue/work', 'content-type': 'application/json' },
        '{"a":[1,2]}',
      );
      await p.sendSync('SEND', { destination: '/queue/work' }, 'caf\u00e9 \u0001');
      await page.fill('#peek-count', '10');
      await page.click('#peek');
      const first = page.locator('#peeked article.message').first();
      await first.waitFor(WAIT);
      assert.equal(await page.locator('#peeked article.message').count(), 3);
      assert.equal(await first.locator('pre.body').textContent(), '{"order":1}');
      assert.match((await first.locator('h3').textContent()) ?? '', /delivered 1×/);
      await page.selectOption('#peek-format', 'json');
      assert.equal(
        await page.locator('#peeked article.message').nth(1).locator('pre.body').textContent(),
        '{\n  "a": [\n    1,\n    2\n  ]\n}',
      );
      await page.selectOption('#peek-format', 'hex');
      assert.equal(
        await page.locator('#peeked article.message').nth(2).locator('pre.body').textContent(),
        '00000000  63 61 66 c3 a9 20 01                              |caf.. .|',
      );
      assert.deepEqual(
        await page
          .locator('#peeked article.message')
          .nth(1)
          .locator('table.headers th')
          .allTextContents(),
        ['content-type'],
      );
      await shot(page, 'destination');
      // Peeking left them in place: purge asks first, then removes the three.
      await page.click('#purge');
      await page
        .locator('.confirm .question', { hasText: 'Remove the messages waiting in /queue/work?' })
        .waitFor(WAIT);
      await page.click('#purge-cancel');
      assert.equal(await page.isVisible('#purge'), true);
      await page.click('#purge');
      await page.click('#purge-confirm');
      await page
        .locator('#notice.ok', { hasText: 'Purged 3 messages from /queue/work.' })
        .waitFor(WAIT);
      await page.locator('#depth', { hasText: /^0$/ }).waitFor(WAIT);
      // Delete: back to the list, and the queue is gone.
      await page.click('#delete');
      await page.click('#delete-confirm');
      await page.locator('#notice.ok', { hasText: 'Deleted /queue/work' }).waitFor(WAIT);
      await page.locator('h1', { hasText: 'Destinations' }).waitFor(WAIT);
      assert.equal(
        await page.locator('#destinations tr[data-destination="/queue/work"]').count(),
        0,
      );
    });

    test('[Console destination] a durable subscription has its own page, and can be deleted alone', async () => {
      const c = await connected(broker, {
        'accept-version': '1.2',
        host: '/',
        'client-id': 'app1',
      });
      await c.sendSync('SUBSCRIBE', {
        id: 's',
        destination: '/topic/prices',
        'durable-subscription-name': 'feed',
      });
      c.close();
      await c.ended;
      await open(
        `#/destination/${['/', '/topic/prices', 'app1', 'feed'].map(encodeURIComponent).join('/')}`,
      );
      await page
        .locator('#destination-name', { hasText: '/topic/prices (durable app1/feed)' })
        .waitFor(WAIT);
      assert.equal(await page.locator('#purge').count(), 0);
      await page.click('#delete');
      await page.click('#delete-confirm');
      await page
        .locator('#notice.ok', { hasText: 'Deleted the durable subscription app1/feed.' })
        .waitFor(WAIT);
    });

    test('[Console connections] list with user, transport, heart-beats; a page per connection; close with a reason', async () => {
      const c = await connected(broker, {
        'accept-version': '1.2',
        host: '/',
        login: 'alice',
        passcode: 'alice-pw',
        'heart-beat': '0,5000',
      });
      peers.push(c);
      await c.sendSync('SUBSCRIBE', {
        id: 'sub-7',
        destination: '/queue/orders.eu',
        ack: 'client',
      });
      await open('#/connections');
      await page.fill('#filter', 'alice');
      const row = page.locator('#connections tbody tr[data-user=alice]');
      await row.waitFor(WAIT);
      assert.equal(await row.locator('td.col-transport').textContent(), 'memory');
      assert.equal(await row.locator('td.col-heartbeat').textContent(), '5 s / off');
      assert.equal(await row.locator('td.col-subscriptions').textContent(), '1');
      await shot(page, 'connections');
      await row.locator('a').click();
      await page
        .locator('#subscriptions td.col-destination', { hasText: '/queue/orders.eu' })
        .waitFor(WAIT);
      assert.match((await page.locator('#facts').textContent()) ?? '', /useralice/);
      await page.fill('#close-reason', 'maintenance');
      await page.click('#close');
      await page.click('#close-confirm');
      await page.locator('#notice.ok', { hasText: /^Closed / }).waitFor(WAIT);
      const error = await c.next('ERROR');
      assert.equal(error.header('message'), 'closed by an administrator: maintenance');
      assert.equal(error.header('code'), ErrorCode.CONNECTION_CLOSED);
    });

    test('[Console users] users, groups and permissions, read-only, without hashes', async () => {
      await open('#/users');
      await page.locator('#users td', { hasText: 'alice' }).waitFor(WAIT);
      // The previous test's alice was closed by the administrator: once gone, she counts 0.
      await page.locator('#users tbody tr td:last-child', { hasText: /^0$/ }).waitFor(WAIT);
      assert.match((await page.locator('#access').textContent()) ?? '', /accepted, as "anonymous"/);
      assert.deepEqual(
        await page.locator('#users tbody tr').first().locator('td').allTextContents(),
        ['alice', 'producers', 'any', 'password', '0'],
      );
      assert.deepEqual(
        await page.locator('#permissions tbody tr').first().locator('td').allTextContents(),
        ['group producers', '/', '/queue/orders.>', 'read, write, create'],
      );
      assert.doesNotMatch(await page.content(), /scrypt\$/);
    });

    test('[Console safety] a destination named like markup is shown as text, and nothing runs', async () => {
      const p = await peer();
      const evil = '/queue/<img src=x onerror="document.title=1">';
      await p.sendSync('SEND', { destination: evil }, '<script>document.title=2</script>');
      await open('#/destinations');
      await page.locator('#destinations td.col-name', { hasText: evil }).waitFor(WAIT);
      assert.equal(await page.locator('#page img').count(), 0);
      assert.equal(await page.title(), 'Destinations · stompede');
      const csp = (await page.request.get(`${base}/`)).headers()['content-security-policy'] ?? '';
      assert.match(csp, /script-src 'self';/);
      assert.doesNotMatch(csp, /unsafe-inline/);
    });

    test('[Console phone] a phone-sized screen: nothing wider than the screen, wide columns hidden', async () => {
      const phone = await context.newPage();
      await phone.setViewportSize({ width: 375, height: 740 });
      try {
        for (const route of ['#/', '#/destinations', '#/connections', '#/users']) {
          await phone.goto(`${base}/?interval=100${route}`);
          await phone.locator('#status.live').waitFor(WAIT);
          const overflow = await phone.evaluate<number>(
            '(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)()',
          );
          assert.ok(overflow <= 0, `${route} overflows by ${String(overflow)} px`);
        }
        await phone.goto(`${base}/?interval=100#/destinations`);
        await phone.locator('#destinations th.col-name').waitFor(WAIT);
        assert.equal(await phone.isVisible('#destinations th.col-vhost'), false);
        assert.equal(await phone.isVisible('#destinations th.col-depth'), true);
        await shot(phone, 'phone');
      } finally {
        await phone.close();
      }
    });

    test('[Console status] the header says when the broker cannot be reached, and recovers', async () => {
      await open('#/');
      await page.locator('#status.live').waitFor(WAIT);
      await page.route('**/api/**', (route) => route.abort());
      await page.locator('#status.down', { hasText: /^cannot reach the broker/ }).waitFor(WAIT);
      await page.unroute('**/api/**');
      await page.locator('#status.live').waitFor(WAIT);
      const other = await browser.newContext({
        httpCredentials: { username: 'ops', password: 'wrong' },
      });
      try {
        const r = await (await other.newPage()).goto(`${base}/api/overview`);
        assert.equal(r?.status(), 401);
      } finally {
        await other.close();
      }
    });
  },
);
