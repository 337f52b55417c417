import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BlockList } from 'node:net';
import fc from 'fast-check';
import { SignerError } from '../../src/errors.ts';
import {
  ipv4BlockContains,
  parseIpv4,
  parseIpv4Block,
  parseViewerAddress,
} from '../../src/core/ip-address.ts';
import { signerError } from '../helpers/errors.ts';

function dotted(value: number): string {
  return [value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff].join('.');
}

function maskOf(prefixLength: number): number {
  return prefixLength === 0 ? 0 : (0xffffffff << (32 - prefixLength)) >>> 0;
}

const address = fc.integer({ min: 0, max: 0xffffffff });
const prefixLength = fc.integer({ min: 0, max: 32 });

describe('parseIpv4', () => {
  it('reads dotted quads as 32-bit values', () => {
    assert.equal(parseIpv4('0.0.0.0'), 0);
    assert.equal(parseIpv4('0.0.0.1'), 1);
    assert.equal(parseIpv4('1.0.0.0'), 16_777_216);
    assert.equal(parseIpv4('203.0.113.7'), 3_405_803_783);
    assert.equal(parseIpv4('255.255.255.255'), 4_294_967_295);
  });

  it('reads back every address written as a dotted quad', () => {
    fc.assert(
      fc.property(address, (value) => {
        assert.equal(parseIpv4(dotted(value)), value);
      }),
      { numRuns: 300 },
    );
  });
});

describe('parseIpv4Block', () => {
  for (const [text, cidr, network, length] of [
    ['203.0.113.7', '203.0.113.7/32', 3_405_803_783, 32],
    ['203.0.113.7/32', '203.0.113.7/32', 3_405_803_783, 32],
    ['203.0.113.0/24', '203.0.113.0/24', 3_405_803_776, 24],
    ['10.0.0.0/8', '10.0.0.0/8', 167_772_160, 8],
    ['192.168.0.0/16', '192.168.0.0/16', 3_232_235_520, 16],
    ['0.0.0.0/0', '0.0.0.0/0', 0, 0],
    ['0.0.0.0', '0.0.0.0/32', 0, 32],
    ['255.255.255.255', '255.255.255.255/32', 4_294_967_295, 32],
    ['128.0.0.0/1', '128.0.0.0/1', 2_147_483_648, 1],
    ['198.51.100.128/25', '198.51.100.128/25', 3_325_256_832, 25],
  ] as const) {
    it(`reads ${text} as the block ${cidr}`, () => {
      assert.deepEqual(parseIpv4Block(text), { cidr, network, prefixLength: length });
    });
  }

  for (const [text, block] of [
    ['203.0.113.7/24', '203.0.113.0/24'],
    ['10.1.2.3/8', '10.0.0.0/8'],
    ['192.168.1.1/0', '0.0.0.0/0'],
    ['198.51.100.129/25', '198.51.100.128/25'],
    ['255.255.255.255/31', '255.255.255.254/31'],
  ] as const) {
    it(`rejects ${text}, whose host bits are set, with ERR_IP_INVALID naming ${block}`, () => {
      assert.throws(
        () => parseIpv4Block(text),
        signerError('ERR_IP_INVALID', `host bits set; the block is ${block}`),
      );
    });
  }

  for (const text of [
    '010.0.0.1',
    '1.2.3.04',
    '00.0.0.0',
    '1.2.3.4/08',
    '1.2.3.4/032',
    '256.0.0.1',
    '1.2.3.999',
    '300.1.1.1',
    '-1.0.0.0',
    '1.2.3',
    '1.2.3.4.5',
    '127.1',
    '1..2.3',
    '1.2.3.4/',
    '1.2.3.4/33',
    '1.2.3.4/-1',
    '1.2.3.4/+8',
    '1.2.3.4/24/1',
    '1.2.3.4//24',
    '/24',
    ' 1.2.3.4',
    '1.2.3.4 ',
    '1.2.3.4/ 24',
    'a.b.c.d',
    'localhost',
    '0x7f.0.0.1',
    '１.2.3.4',
    '1.2.3.4\n',
  ]) {
    it(`rejects ${JSON.stringify(text)} with ERR_IP_INVALID`, () => {
      assert.throws(
        () => parseIpv4Block(text),
        signerError('ERR_IP_INVALID', 'is not an IPv4 address or CIDR block'),
      );
    });
  }

  for (const value of ['', 42, null, undefined, ['1.2.3.4'], `1.2.3.4/${'1'.repeat(60)}`]) {
    it(`rejects ${typeof value === 'string' ? `a string of ${value.length} characters` : String(value)} with ERR_IP_INVALID`, () => {
      assert.throws(
        () => parseIpv4Block(value),
        signerError('ERR_IP_INVALID', 'IPv4 address or CIDR block'),
      );
    });
  }

  for (const text of [
    '::1',
    '2001:db8::/32',
    '2001:db8::1',
    '::ffff:203.0.113.7',
    'fe80::1%eth0',
    '::',
  ]) {
    it(`rejects the IPv6 ${text} with ERR_IP_V6_UNSUPPORTED`, () => {
      assert.throws(() => parseIpv4Block(text), signerError('ERR_IP_V6_UNSUPPORTED', 'only IPv4'));
    });
  }

  it('accepts every aligned block and rejects the same prefix on an unaligned address', () => {
    fc.assert(
      fc.property(address, prefixLength, (value, length) => {
        const network = (value & maskOf(length)) >>> 0;
        const cidr = `${dotted(network)}/${length}`;
        assert.deepEqual(parseIpv4Block(cidr), { cidr, network, prefixLength: length });
        if (network !== value) {
          assert.throws(
            () => parseIpv4Block(`${dotted(value)}/${length}`),
            signerError('ERR_IP_INVALID', `the block is ${cidr}`),
          );
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('ipv4BlockContains', () => {
  it('contains exactly the addresses of the block', () => {
    const block = parseIpv4Block('203.0.113.0/24');
    assert.equal(ipv4BlockContains(block, '203.0.113.0'), true);
    assert.equal(ipv4BlockContains(block, '203.0.113.255'), true);
    assert.equal(ipv4BlockContains(block, '203.0.112.255'), false);
    assert.equal(ipv4BlockContains(block, '203.0.114.0'), false);
    const single = parseIpv4Block('198.51.100.7');
    assert.equal(ipv4BlockContains(single, '198.51.100.7'), true);
    assert.equal(ipv4BlockContains(single, '198.51.100.8'), false);
    assert.equal(ipv4BlockContains(parseIpv4Block('0.0.0.0/0'), '255.255.255.255'), true);
  });

  it('never contains an IPv6 or malformed address', () => {
    const everything = parseIpv4Block('0.0.0.0/0');
    for (const text of ['::1', '::ffff:1.2.3.4', '1.2.3', '01.2.3.4', '', '1.2.3.4/32']) {
      assert.equal(ipv4BlockContains(everything, text), false, text);
    }
  });

  it('agrees with node:net BlockList', () => {
    fc.assert(
      fc.property(
        address,
        prefixLength,
        fc.array(address, { minLength: 1, maxLength: 8 }),
        fc.array(fc.nat(), { minLength: 8, maxLength: 8 }),
        (value, length, probes, offsets) => {
          const network = (value & maskOf(length)) >>> 0;
          const block = parseIpv4Block(`${dotted(network)}/${length}`);
          const reference = new BlockList();
          reference.addSubnet(dotted(network), length, 'ipv4');
          // Random addresses, addresses inside the block, and the addresses either side of its ends.
          const size = 2 ** (32 - length);
          const inside = offsets.map((offset) => network + (offset % size));
          const edges = [network - 1, network, network + size - 1, network + size].filter(
            (v) => v >= 0 && v <= 0xffffffff,
          );
          for (const candidate of [...probes, ...inside, ...edges]) {
            const text = dotted(candidate);
            assert.equal(
              ipv4BlockContains(block, text),
              reference.check(text, 'ipv4'),
              `${text} in ${block.cidr}`,
            );
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('parseViewerAddress', () => {
  it('reads IPv4, IPv4-mapped IPv6 and IPv6 addresses', () => {
    assert.equal(parseViewerAddress('203.0.113.9'), '203.0.113.9');
    assert.equal(parseViewerAddress('::FFFF:203.0.113.9'), '203.0.113.9');
    // The hex form that Node's URL parser writes for the same mapped address.
    assert.equal(parseViewerAddress('::ffff:cb00:7109'), '203.0.113.9');
    assert.equal(parseViewerAddress('0:0:0:0:0:ffff:102:304'), '1.2.3.4');
    assert.equal(parseViewerAddress('2001:DB8::1'), '2001:db8::1');
  });

  it('refuses anything else with ERR_IP_INVALID', () => {
    for (const text of ['garbage', '1.2.3', '1.2.3.4/32', '2001:db8::g', ':', '01.2.3.4']) {
      assert.throws(
        () => parseViewerAddress(text),
        (error) => error instanceof SignerError && error.code === 'ERR_IP_INVALID',
        text,
      );
    }
  });
});
