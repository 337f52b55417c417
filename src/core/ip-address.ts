import { SignerError } from '../errors.ts';
import { quoteInput } from './quote-input.ts';

/** An IPv4 CIDR block in CloudFront's `AWS:SourceIp` form, e.g. `203.0.113.0/24`. */
export interface Ipv4Block {
  /** The block as written in a policy: `a.b.c.d/n`. */
  readonly cidr: string;
  readonly network: number;
  readonly prefixLength: number;
}

// Decimal octets without leading zeros: `010` would be octal to some parsers and decimal to others.
const OCTET = '(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]\\d|\\d)';
const IPV4 = new RegExp(`^${OCTET}\\.${OCTET}\\.${OCTET}\\.${OCTET}$`);
const PREFIX = /^(3[0-2]|[12]\d|\d)$/;

/** The 32-bit value of a dotted-quad IPv4 address, or undefined if `text` is not one. */
export function parseIpv4(text: string): number | undefined {
  const match = IPV4.exec(text);
  if (!match) return undefined;
  return match.slice(1).reduce((value, octet) => value * 256 + Number(octet), 0);
}

function formatIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

function networkOf(address: number, prefixLength: number): number {
  const hostSize = 2 ** (32 - prefixLength);
  return address - (address % hostSize);
}

/**
 * Parses the IP condition of a custom policy: one IPv4 address (becomes `/32`) or an IPv4 CIDR
 * block whose host bits are zero. CloudFront does not support IPv6 in policies.
 *
 * @throws {SignerError} `ERR_IP_V6_UNSUPPORTED` or `ERR_IP_INVALID`
 */
export function parseIpv4Block(text: unknown): Ipv4Block {
  if (typeof text !== 'string' || text.length === 0 || text.length > 64) {
    throw new SignerError('ERR_IP_INVALID', 'IP condition must be an IPv4 address or CIDR block');
  }
  if (text.includes(':')) {
    throw new SignerError(
      'ERR_IP_V6_UNSUPPORTED',
      'CloudFront policies accept only IPv4 addresses; IPv6 viewers cannot be restricted by IP',
    );
  }
  const [addressText = '', prefixText, ...rest] = text.split('/');
  const address = parseIpv4(addressText);
  if (
    address === undefined ||
    rest.length > 0 ||
    (prefixText !== undefined && !PREFIX.test(prefixText))
  ) {
    throw new SignerError(
      'ERR_IP_INVALID',
      `${quoteInput(text)} is not an IPv4 address or CIDR block such as 203.0.113.0/24`,
    );
  }
  const prefixLength = prefixText === undefined ? 32 : Number(prefixText);
  const network = networkOf(address, prefixLength);
  if (network !== address) {
    throw new SignerError(
      'ERR_IP_INVALID',
      `${quoteInput(text)} has host bits set; the block is ${formatIpv4(network)}/${prefixLength} (for one address use /32)`,
    );
  }
  return { cidr: `${formatIpv4(network)}/${prefixLength}`, network, prefixLength };
}

/**
 * Checks a viewer's address for verification: a dotted-quad IPv4 address, or an IPv6 one
 * (which no CloudFront IP condition matches). IPv4-mapped IPv6 (`::ffff:a.b.c.d`, or its hex
 * form `::ffff:102:304`) is IPv4.
 *
 * @throws {SignerError} `ERR_IP_INVALID`
 */
export function parseViewerAddress(text: string): string {
  const mapped = /^::ffff:(.+)$/i.exec(text)?.[1];
  if (parseIpv4(mapped ?? text) !== undefined) return mapped ?? text;
  if (/^[0-9A-Fa-f:.]{2,45}$/.test(text) && text.includes(':')) {
    try {
      // The WHATWG URL parser is a strict IPv6 parser and is always available.
      const canonical = new URL(`http://[${text}]/`).hostname.slice(1, -1);
      // It writes IPv4-mapped addresses in hex (::ffff:102:304 is 1.2.3.4): still IPv4.
      const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(canonical);
      if (hex !== null) {
        const value = (parseInt(hex[1] ?? '0', 16) << 16) | parseInt(hex[2] ?? '0', 16);
        return [24, 16, 8, 0].map((shift) => (value >>> shift) & 0xff).join('.');
      }
      return canonical;
    } catch {
      // falls through to the error below
    }
  }
  throw new SignerError('ERR_IP_INVALID', `${quoteInput(text)} is not an IPv4 or IPv6 address`);
}

/** Whether the IPv4 `address` (dotted quad) lies in `block`. An IPv6 address never does. */
export function ipv4BlockContains(block: Ipv4Block, address: string): boolean {
  const value = parseIpv4(address);
  return value !== undefined && networkOf(value, block.prefixLength) === block.network;
}
