import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';

export type AddressFamily = 'any' | 'inet' | 'inet6';

/**
 * Which local addresses a forward listens on, as ssh's client decides (channels.c
 * channel_fwd_bind_addr, then getaddrinfo): no address means loopback, or every address with
 * GatewayPorts; `*` or an empty address means every address; `localhost` means loopback in
 * each family; any other name or address means exactly what it resolves to. `-4`/`-6`
 * (AddressFamily) keep one family.
 */
export async function listenAddresses(
  listenHost: string | undefined,
  gatewayPorts: boolean,
  family: AddressFamily,
): Promise<string[]> {
  const keep = (addrs: string[]): string[] =>
    addrs.filter((a) => family === 'any' || (family === 'inet' ? isIP(a) === 4 : isIP(a) === 6));
  const wildcard = listenHost === undefined ? gatewayPorts : listenHost === '' || listenHost === '*';
  // glibc's getaddrinfo() without a node puts IPv6 first; ssh reports a bind error at error
  // level only for the last address, so the order decides which failure is shown.
  if (wildcard) return keep(['::', '0.0.0.0']);
  if (listenHost === undefined || listenHost === 'localhost') return keep(['::1', '127.0.0.1']);
  if (isIP(listenHost) !== 0) return keep([listenHost]);
  const found = await lookup(listenHost, {
    all: true,
    ...(family !== 'any' && { family: family === 'inet' ? 4 : 6 }),
  });
  return keep([...new Set(found.map((a) => a.address))]);
}
