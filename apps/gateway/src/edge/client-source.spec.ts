import { sourceKey } from './client-source';

describe('sourceKey', () => {
  it('keeps IPv4, unwraps IPv4-mapped IPv6 and groups IPv6 by /64', () => {
    expect(sourceKey('203.0.113.7')).toBe('203.0.113.7');
    expect(sourceKey('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(sourceKey('2001:db8:1:2:aaaa:bbbb:cccc:dddd')).toBe('2001:db8:1:2::/64');
    expect(sourceKey('2001:0db8:0001:0002::1')).toBe('2001:db8:1:2::/64');
    expect(sourceKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(sourceKey('::1')).toBe('0:0:0:0::/64');
    expect(sourceKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
  });

  it('folds anything unparsable into one source', () => {
    expect(sourceKey(undefined)).toBe('unknown');
    expect(sourceKey('not-an-ip')).toBe('unknown');
    expect(sourceKey('1.2.3.4, 5.6.7.8')).toBe('unknown');
  });
});
