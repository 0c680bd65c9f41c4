// A table that sorts by any column (click its header; again to reverse) and filters its rows by
// a text box. On a narrow screen the table scrolls sideways and the columns marked `wide` hide.
import { type Child, h, replace } from './dom.js';

/** One column. */
export interface Column<T> {
  readonly key: string;
  readonly label: string;
  /** The value sorted by (and shown, without `cell`). */
  readonly value: (row: T) => string | number | null;
  /** What the cell shows, when not the value itself. */
  readonly cell?: (row: T) => Child;
  /** Right-aligned, sorted as a number. */
  readonly numeric?: boolean;
  /** Hidden on narrow screens. */
  readonly wide?: boolean;
}

/** A sortable, filterable table. */
export class DataTable<T> {
  readonly element: HTMLElement;
  private readonly body: HTMLTableSectionElement;
  private readonly headers: HTMLTableCellElement[];
  private readonly empty: HTMLElement;
  private rows: readonly T[] = [];
  private sortKey: string | undefined;
  private descending = false;
  private filterText = '';

  constructor(
    id: string,
    private readonly columns: readonly Column<T>[],
    /** `data-*` attributes of a row (for links and tests). */
    private readonly rowData: (row: T) => Record<string, string>,
    /** Text the filter searches in. */
    private readonly searchText: (row: T) => string,
    private readonly emptyText = 'none',
  ) {
    this.headers = columns.map((c) => {
      const th = h(
        'th',
        { class: cls(c), data: { key: c.key }, title: `sort by ${c.label}` },
        h('button', { type: 'button', class: 'sort' }, c.label),
      );
      th.addEventListener('click', () => {
        this.sortBy(c.key);
      });
      return th;
    });
    this.body = h('tbody');
    this.empty = h('p', { class: 'empty', hidden: true });
    this.element = h(
      'div',
      { class: 'table-wrap' },
      h('table', { id }, h('thead', {}, h('tr', {}, ...this.headers)), this.body),
      this.empty,
    );
  }

  /** Sort by column `key`; the same key again reverses the order. */
  sortBy(key: string, descending?: boolean): void {
    this.descending = descending ?? (this.sortKey === key ? !this.descending : false);
    this.sortKey = key;
    this.render();
  }

  /** Keep only rows whose search text contains `text` (case-insensitive). */
  filter(text: string): void {
    this.filterText = text.trim().toLowerCase();
    this.render();
  }

  /** Show `rows`. */
  update(rows: readonly T[]): void {
    this.rows = rows;
    this.render();
  }

  private render(): void {
    let rows = this.rows.filter(
      (r) => this.filterText === '' || this.searchText(r).toLowerCase().includes(this.filterText),
    );
    const col = this.columns.find((c) => c.key === this.sortKey);
    if (col !== undefined) {
      const sign = this.descending ? -1 : 1;
      rows = [...rows].sort((a, b) => compare(col.value(a), col.value(b), sign));
    }
    for (const th of this.headers) {
      const sorted = th.dataset.key === this.sortKey;
      if (sorted) th.setAttribute('aria-sort', this.descending ? 'descending' : 'ascending');
      else th.removeAttribute('aria-sort');
    }
    replace(
      this.body,
      ...rows.map((r) =>
        h(
          'tr',
          { data: this.rowData(r) },
          ...this.columns.map((c) => {
            const v = c.cell === undefined ? c.value(r) : c.cell(r);
            return h('td', { class: cls(c) }, v === null ? '' : v);
          }),
        ),
      ),
    );
    this.empty.hidden = rows.length > 0;
    this.empty.textContent = this.rows.length > 0 ? 'nothing matches the filter' : this.emptyText;
  }
}

function cls<T>(c: Column<T>): string {
  return `col-${c.key}${c.numeric === true ? ' num' : ''}${c.wide === true ? ' wide' : ''}`;
}

/** Numbers by value, text in natural order, `sign` -1 to reverse; null last either way. */
function compare(a: string | number | null, b: string | number | null, sign: number): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  if (typeof a === 'number' && typeof b === 'number') return sign * (a - b);
  return sign * String(a).localeCompare(String(b), undefined, { numeric: true });
}
