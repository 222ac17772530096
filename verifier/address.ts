// IPv4 arithmetic for the checks (is an address public) and the iptables readers (does a CIDR cover
// another): one small module both use, so iptables/ needs nothing from checks/.
import { isIPv4 } from "node:net";

function toNumber(ip: string): number {
  return ip.split(".").reduce((n, octet) => n * 256 + Number(octet), 0);
}

export function parseCidr(cidr: string): { base: number; bits: number } | undefined {
  const [ip, bitsText] = cidr.trim().split("/");
  const bits = bitsText === undefined ? 32 : Number(bitsText);
  if (!isIPv4(ip) || !Number.isInteger(bits) || bits < 0 || bits > 32) return undefined;
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return { base: (toNumber(ip) & mask) >>> 0, bits };
}

/** true when every address of `inner` is inside `outer` (both CIDRs or plain addresses). */
export function cidrCovers(outer: string, inner: string): boolean {
  const o = parseCidr(outer);
  const i = parseCidr(inner);
  if (!o || !i || i.bits < o.bits) return false;
  const mask = o.bits === 0 ? 0 : (0xffffffff << (32 - o.bits)) >>> 0;
  return ((i.base & mask) >>> 0) === o.base;
}

/** Ranges that never reach the Internet: RFC 1918, shared CGNAT, loopback, link-local. */
const NON_PUBLIC = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "0.0.0.0/8"];

export function isPublicIPv4(ip: string): boolean {
  return isIPv4(ip) && !NON_PUBLIC.some((range) => cidrCovers(range, ip));
}
