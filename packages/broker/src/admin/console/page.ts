// What every page of the console is, and what it gets from the shell (main.ts).
import { ApiError } from './api.js';
import { h } from './dom.js';

/** What the shell gives a page. */
export interface Shell {
  /** Milliseconds between refreshes (`?interval=` in the console's URL; 2000 by default). */
  readonly interval: number;
  /** Tell the user how an action went. */
  notify(message: string, kind: 'ok' | 'error'): void;
  /** Open a route (`#/…`). */
  go(route: string): void;
}

/** One page: built once, then refreshed while it is shown. */
export interface Page {
  readonly title: string;
  readonly element: HTMLElement;
  /** Fetch and show the latest; called when the page opens and at every poll. */
  refresh(): Promise<void>;
}

/** A section with a heading. */
export function section(title: string, ...children: (Node | null)[]): HTMLElement {
  return h('section', {}, h('h2', {}, title), ...children);
}

/**
 * A button that asks before it acts: the first click shows "confirm" and "cancel"; confirming
 * runs `act`, whose resolved text is shown as a notice. Used for every destructive action.
 */
export function confirmButton(
  shell: Shell,
  id: string,
  label: string,
  question: () => string,
  act: () => Promise<string>,
): HTMLElement {
  const start = h('button', { type: 'button', id, class: 'danger' }, label);
  const ask = h('span', { class: 'question' });
  const yes = h('button', { type: 'button', id: `${id}-confirm`, class: 'danger' }, 'Confirm');
  const no = h('button', { type: 'button', id: `${id}-cancel` }, 'Cancel');
  const confirm = h('span', { class: 'confirm', hidden: true }, ask, ' ', yes, ' ', no);
  start.addEventListener('click', () => {
    ask.textContent = question();
    confirm.hidden = false;
    start.hidden = true;
  });
  no.addEventListener('click', () => {
    confirm.hidden = true;
    start.hidden = false;
  });
  yes.addEventListener('click', () => {
    yes.disabled = true;
    act()
      .then(
        (done) => {
          shell.notify(done, 'ok');
        },
        (err: unknown) => {
          shell.notify(errorText(err), 'error');
        },
      )
      .finally(() => {
        yes.disabled = false;
        confirm.hidden = true;
        start.hidden = false;
      });
  });
  return h('span', { class: 'action' }, start, confirm);
}

/** An error as the user reads it. */
export function errorText(err: unknown): string {
  if (err instanceof ApiError) return `${err.message} (HTTP ${String(err.status)})`;
  return err instanceof Error ? err.message : String(err);
}
