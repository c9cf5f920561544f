import { isIPv4, isIPv6 } from 'node:net';

export type CidrCheck =
  { readonly ok: true } | { readonly ok: false; readonly problem: string; readonly suggestion?: string };

function ipv4ToNumber(address: string): number {
  return address.split('.').reduce((sum, octet) => sum * 256 + Number(octet), 0);
}

function numberToIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

/** Checks a NetworkPolicy ipBlock CIDR and, where it can, says what was probably meant. */
export function checkCidr(value: string): CidrCheck {
  const [address = '', prefixText, extra] = value.split('/');
  if (extra !== undefined) return { ok: false, problem: 'it has more than one "/"' };
  const family = isIPv4(address) ? 4 : isIPv6(address) ? 6 : undefined;
  if (family === undefined) return { ok: false, problem: `"${address}" is not an IPv4 or IPv6 address` };
  const maxPrefix = family === 4 ? 32 : 128;
  if (prefixText === undefined) {
    return { ok: false, problem: 'the prefix length is missing', suggestion: `${address}/${maxPrefix}` };
  }
  if (!/^\d+$/.test(prefixText) || Number(prefixText) > maxPrefix) {
    return { ok: false, problem: `the prefix length must be 0-${maxPrefix}` };
  }
  if (family === 4) {
    const prefix = Number(prefixText);
    const size = 2 ** (32 - prefix);
    const network = Math.floor(ipv4ToNumber(address) / size) * size;
    if (network !== ipv4ToNumber(address)) {
      return { ok: false, problem: 'it has host bits set', suggestion: `${numberToIpv4(network)}/${prefix}` };
    }
  }
  return { ok: true };
}
