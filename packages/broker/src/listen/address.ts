// Network addresses as the listeners report them: which hosts are loopback, and the address part
// of `ip:port` (connection limits and login throttling count per address).

/** True for a loopback host: `127.x.x.x`, `::1`, `localhost`. */
export function isLoopback(host: string): boolean {
  const h = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  return (
    h === 'localhost' ||
    h === '::1' ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) ||
    /^::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/i.test(h)
  );
}

/** The address part of `ip:port` (IPv6 included); `local` for in-memory streams. */
export function addressOf(remote: string | undefined): string {
  if (remote === undefined) return 'local';
  const i = remote.lastIndexOf(':');
  return i <= 0 ? remote : remote.slice(0, i);
}
