// Building the page. Every name the console shows (destinations, users, headers, bodies) comes
// from clients, so text only ever goes in as text nodes, never as HTML, and links only ever
// point inside the console (`#/…`). Nothing here parses markup.

/** A child: text, an element, or nothing. */
export type Child = Node | string | number | null | undefined | false;

/** Attributes the console sets. `href` must be a console route (`#/…`). */
export interface Attrs {
  readonly class?: string;
  readonly id?: string;
  readonly href?: string;
  readonly title?: string;
  readonly type?: string;
  readonly name?: string;
  readonly value?: string;
  readonly placeholder?: string;
  readonly role?: string;
  readonly for?: string;
  readonly min?: string;
  readonly max?: string;
  readonly rows?: string;
  readonly 'aria-label'?: string;
  readonly 'aria-live'?: string;
  readonly 'aria-sort'?: string;
  readonly hidden?: boolean;
  readonly checked?: boolean;
  readonly disabled?: boolean;
  readonly data?: Readonly<Record<string, string>>;
}

/** An element with attributes and children (strings become text nodes). */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs) as [keyof Attrs, unknown][]) {
    if (value === undefined || value === false) continue;
    if (name === 'data') {
      for (const [k, v] of Object.entries(value as Record<string, string>)) el.dataset[k] = v;
    } else if (name === 'href') {
      if (typeof value !== 'string' || !value.startsWith('#/'))
        throw new Error('console links stay in the console');
      el.setAttribute('href', value);
    } else if (value === true) {
      el.setAttribute(name, '');
    } else if (typeof value === 'string') {
      el.setAttribute(name, value);
    }
  }
  append(el, children);
  return el;
}

/** Append children to `el`. */
export function append(el: Node, children: readonly Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.appendChild(typeof c === 'string' || typeof c === 'number' ? text(String(c)) : c);
  }
}

/** A text node. */
export function text(value: string): Text {
  return document.createTextNode(value);
}

/** Replace `el`'s children. */
export function replace(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, children);
}

/** The element with this id, which the page must have. */
export function byId(id: string): HTMLElement {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`no #${id}`);
  return el;
}

/** A labelled figure: `<div class="tile"><span>label</span><b>value</b></div>`. */
export function tile(label: string, id: string, note?: string): HTMLElement {
  return h(
    'div',
    { class: 'tile' },
    h('span', { class: 'label' }, label),
    h('b', { id }, '–'),
    note === undefined ? null : h('small', { id: `${id}-note` }, note),
  );
}

/** Set a tile's (or any element's) text by id, when the element is there. */
export function setText(id: string, value: string): void {
  const el = document.getElementById(id);
  if (el !== null && el.textContent !== value) el.textContent = value;
}

/** A `#/…` link to a console route built from parts (each part is URI-encoded). */
export function route(...parts: string[]): string {
  return `#/${parts.map((p) => encodeURIComponent(p)).join('/')}`;
}
