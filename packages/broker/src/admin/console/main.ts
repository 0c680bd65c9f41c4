// The console's shell: reads the route from the URL's fragment (`#/destinations`, …), builds
// that page, refreshes it every `interval` ms, and says in the header whether the broker answers.
import { ApiError } from './api.js';
import { byId, replace } from './dom.js';
import type { Page, Shell } from './page.js';
import { connectionPage } from './pages/connection.js';
import { connectionsPage } from './pages/connections.js';
import { destinationPage } from './pages/destination.js';
import { destinationsPage } from './pages/destinations.js';
import { overviewPage } from './pages/overview.js';
import { usersPage } from './pages/users.js';

const interval = Number(new URLSearchParams(location.search).get('interval')) || 2000;

/** Set by `go`: the next page keeps the notice up. */
let keepNotice = false;

const shell: Shell = {
  interval,
  notify(message, kind) {
    const el = byId('notice');
    el.textContent = message;
    el.className = kind;
    el.hidden = false;
  },
  go(to) {
    // The notice of the action that moved here stays up on the page it moved to.
    keepNotice = true;
    location.hash = to;
  },
};

/** The page for a route: its first part names it, the others (URI-encoded) are its arguments. */
function pageFor(hash: string): { page: Page; nav: string } {
  const parts = hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  const [name = '', ...args] = parts;
  switch (name) {
    case 'destinations':
      return { page: destinationsPage(shell), nav: 'destinations' };
    case 'destination':
      return { page: destinationPage(shell, args), nav: 'destinations' };
    case 'connections':
      return { page: connectionsPage(shell), nav: 'connections' };
    case 'connection':
      return { page: connectionPage(shell, args[0] ?? ''), nav: 'connections' };
    case 'users':
      return { page: usersPage(), nav: 'users' };
    default:
      return { page: overviewPage(shell), nav: 'overview' };
  }
}

let timer: number | undefined;
let generation = 0;

async function refresh(page: Page, mine: number): Promise<void> {
  const status = byId('status');
  try {
    await page.refresh();
    if (mine !== generation) return;
    status.textContent = `live · ${new Date().toLocaleTimeString()}`;
    status.className = 'live';
  } catch (err) {
    if (mine !== generation) return;
    status.textContent =
      err instanceof ApiError && err.status === 401
        ? 'not signed in (reload to sign in)'
        : `cannot reach the broker (${err instanceof Error ? err.message : String(err)}), retrying`;
    status.className = 'down';
  }
  if (mine === generation) timer = window.setTimeout(() => void refresh(page, mine), interval);
}

function open(): void {
  window.clearTimeout(timer);
  const mine = ++generation;
  const { page, nav } = pageFor(location.hash);
  document.title = `${page.title} · stompede`;
  for (const a of document.querySelectorAll<HTMLAnchorElement>('nav a')) {
    if (a.dataset.nav === nav) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  if (!keepNotice) byId('notice').hidden = true;
  keepNotice = false;
  replace(byId('page'), page.element);
  window.scrollTo(0, 0);
  void refresh(page, mine);
}

window.addEventListener('hashchange', open);
window.addEventListener('resize', () => {
  for (const c of document.querySelectorAll('canvas')) c.dispatchEvent(new Event('redraw'));
});
byId('notice').addEventListener('click', () => {
  byId('notice').hidden = true;
});
open();
