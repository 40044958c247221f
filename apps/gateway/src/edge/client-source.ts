import { isIP } from 'node:net';

/**
 * The source a per-source limit and a refusal record are kept under: an IPv4 address as is (IPv4-mapped IPv6
 * unwrapped), an IPv6 address by its /64 (one subscriber's allocation: a host picks any address inside it at will).
 * Anything unparsable is one shared source, so it can never mint fresh keys.
 */
export function sourceKey(address: string | undefined): string {
  if (!address) return 'unknown';
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  if (mapped?.[1]) return mapped[1];
  const family = isIP(address);
  if (family === 4) return address;
  if (family !== 6) return 'unknown';
  const groups = expandIpv6(address.split('%')[0] ?? '');
  return groups ? `${groups.slice(0, 4).join(':')}::/64` : 'unknown';
}

/** The eight 16-bit groups of an IPv6 address, each without leading zeros. */
function expandIpv6(address: string): string[] | null {
  const [head = '', tail] = address.split('::');
  const parts = (s: string) => (s === '' ? [] : s.split(':'));
  const left = parts(head);
  const right = tail === undefined ? [] : parts(tail);
  // A trailing dotted quad (::1.2.3.4) counts as two groups; only the /64 prefix is kept, so its value never matters.
  const width = (l: string[]) => l.reduce((n, g) => n + (g.includes('.') ? 2 : 1), 0);
  const missing = 8 - width(left) - width(right);
  if (tail === undefined ? missing !== 0 : missing < 0) return null;
  const groups = [...left, ...Array<string>(missing).fill('0'), ...right].flatMap((g) =>
    g.includes('.') ? ['0', '0'] : [g],
  );
  return groups.map((g) => parseInt(g, 16).toString(16));
}
