/** A peer address as Parley counts it: proxies are not trusted, IPv4-mapped IPv6 is unwrapped. */
export function unwrapAddress(address: string | undefined): string {
  if (!address) return 'unknown';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
