// Users and permissions, read-only: who may log in, to which virtual hosts, and which rights
// each rule grants on which destinations. Password hashes never leave the broker.
import type { UsersJson } from '../../api-types.js';
import { get } from '../api.js';
import { h, replace } from '../dom.js';
import { count } from '../format.js';
import { type Page, section } from '../page.js';

function table(
  id: string,
  head: readonly string[],
  rows: readonly (readonly string[])[],
): HTMLElement {
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { id },
      h('thead', {}, h('tr', {}, ...head.map((t) => h('th', {}, t)))),
      h('tbody', {}, ...rows.map((r) => h('tr', {}, ...r.map((c) => h('td', {}, c))))),
    ),
    rows.length === 0 ? h('p', { class: 'empty' }, 'none') : null,
  );
}

/** The users page. */
export function usersPage(): Page {
  const body = h('div', {});
  return {
    title: 'Users',
    element: h('div', {}, h('h1', {}, 'Users and permissions'), body),
    async refresh() {
      const u = await get<UsersJson>('api/users');
      const every = (v: readonly string[] | null): string => (v === null ? 'any' : v.join(', '));
      replace(
        body,
        h(
          'p',
          { id: 'access' },
          u.allowAnonymous
            ? 'Clients that do not log in are accepted, as "anonymous".'
            : 'Clients must log in.',
          ` Default virtual host ${u.defaultVhost}; virtual hosts allowed: ${every(u.vhosts)}.`,
        ),
        section(
          'Users',
          table(
            'users',
            ['user', 'groups', 'virtual hosts', 'login', 'connections'],
            u.users.map((x) => [
              x.name,
              x.groups.join(', '),
              every(x.vhosts),
              x.password ? 'password' : 'client certificate',
              count(x.connections),
            ]),
          ),
        ),
        section(
          'Groups',
          table(
            'groups',
            ['group', 'members'],
            u.groups.map((g) => [g.name, g.members.join(', ')]),
          ),
        ),
        section(
          'Permissions',
          h(
            'p',
            { class: 'muted' },
            u.permissions.length === 0
              ? 'No rules: every user may do everything.'
              : 'A right is granted when any rule grants it.',
          ),
          table(
            'permissions',
            ['who', 'virtual host', 'destinations', 'rights'],
            u.permissions.map((p) => [
              p.user !== undefined ? `user ${p.user}` : `group ${p.group ?? ''}`,
              p.vhost,
              p.destinations.join(', '),
              p.rights.join(', '),
            ]),
          ),
        ),
      );
    },
  };
}
