// kube-proxy's chain names. kube-proxy names a service's chains after a hash so that they fit the
// 28-character limit of iptables chain names: sha256 of "<ns>/<name>[:<portName>]<protocol>"
// (plus "<ip>:<port>" for an endpoint chain), base32 (RFC 4648, standard alphabet), first 16 chars.
import { createHash } from "node:crypto";
import { isIPv6 } from "node:net";

const BASE32_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/** RFC 4648 base32 with the standard alphabet (padding is never reached: we keep 16 chars). */
export function base32(bytes: Uint8Array): string {
  let out = "";
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32_ALPHABET[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
    buffer &= (1 << bits) - 1; // keep only the bits not yet emitted
  }
  if (bits > 0) out += BASE32_ALPHABET[(buffer << (5 - bits)) & 31];
  return out;
}

function hash16(input: string): string {
  return base32(createHash("sha256").update(input).digest()).slice(0, 16);
}

/** "ns/name:port" (or "ns/name" for an unnamed port), the string kube-proxy hashes and comments with. */
export function servicePortName(namespace: string, name: string, portName?: string): string {
  return portName ? `${namespace}/${name}:${portName}` : `${namespace}/${name}`;
}

/** "ip:port", "[ip]:port" for IPv6, as kube-proxy prints an endpoint. */
export function endpointString(ip: string, port: number): string {
  return isIPv6(ip) ? `[${ip}]:${port}` : `${ip}:${port}`;
}

export function portProtoHash(svcPortName: string, protocol: string): string {
  return hash16(svcPortName + protocol.toLowerCase());
}

export const serviceChain = (spn: string, proto: string) => `KUBE-SVC-${portProtoHash(spn, proto)}`;
export const serviceLocalChain = (spn: string, proto: string) => `KUBE-SVL-${portProtoHash(spn, proto)}`;
export const externalChain = (spn: string, proto: string) => `KUBE-EXT-${portProtoHash(spn, proto)}`;
export const firewallChain = (spn: string, proto: string) => `KUBE-FW-${portProtoHash(spn, proto)}`;
export const endpointChain = (spn: string, proto: string, endpoint: string) =>
  `KUBE-SEP-${hash16(spn + proto.toLowerCase() + endpoint)}`;
