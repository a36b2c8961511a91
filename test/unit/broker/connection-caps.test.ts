import { describe, expect, it } from 'vitest';
import { clip } from '../../../broker/bounded.ts';
import { addressKey, ConnectionCaps } from '../../../broker/connection-caps.ts';

describe('addressKey', () => {
  it('keeps IPv4 as it is and unwraps IPv4-mapped IPv6', () => {
    expect(addressKey('192.0.2.10')).toBe('192.0.2.10');
    expect(addressKey('::ffff:192.0.2.10')).toBe('192.0.2.10');
    expect(addressKey(undefined)).toBe('unknown');
  });

  it('counts IPv6 per /64, whatever the spelling', () => {
    expect(addressKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:0db8:0001:0002:ffff:ffff:ffff:ffff')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
    expect(addressKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(addressKey('64:ff9b:1::192.0.2.1')).toBe('64:ff9b:1:0::/64');
  });
});

describe('ConnectionCaps', () => {
  it('refuses beyond the per-address cap and the total cap, and frees slots on release', () => {
    const caps = new ConnectionCaps({ maxConnections: 3, maxConnectionsPerAddress: 2 });
    expect(caps.admit('a')).toBe('admitted');
    expect(caps.admit('a')).toBe('admitted');
    expect(caps.admit('a')).toBe('address_cap');
    expect(caps.admit('b')).toBe('admitted');
    expect(caps.admit('c')).toBe('total_cap');
    caps.release('a');
    expect(caps.open).toBe(2);
    expect(caps.admit('c')).toBe('admitted');
    expect(caps.admit('a')).toBe('total_cap');
  });

  it('ignores a release of an address it does not hold', () => {
    const caps = new ConnectionCaps({ maxConnections: 1, maxConnectionsPerAddress: 1 });
    caps.release('a');
    expect(caps.admit('a')).toBe('admitted');
    expect(caps.open).toBe(1);
  });
});

describe('clip', () => {
  it('keeps short values and cuts long ones, saying how long they were', () => {
    expect(clip('DVES_1A2B3C')).toBe('DVES_1A2B3C');
    expect(clip(undefined)).toBeUndefined();
    expect(clip('x'.repeat(70))).toBe(`${'x'.repeat(64)}…(70 chars)`);
  });
});
