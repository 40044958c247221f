import { BadRequestException } from '@nestjs/common';
import { decodeCursor, encodeCursor, isAuditId } from './audit-cursor';

describe('audit ids and cursors', () => {
  it('accepts ids Postgres bigint holds and refuses the rest before any SQL', () => {
    expect(isAuditId('1')).toBe(true);
    expect(isAuditId('9223372036854775807')).toBe(true);
    for (const bad of ['0', '007', '-1', '9223372036854775808', '9999999999999999999', '1e3', ' 1', '']) {
      expect(isAuditId(bad)).toBe(false);
    }
  });

  it('round-trips a cursor and answers 400 for one past the bigint range', () => {
    expect(decodeCursor(encodeCursor('42'))).toBe('42');
    expect(() => decodeCursor(encodeCursor('9999999999999999999'))).toThrow(BadRequestException);
    expect(() => decodeCursor('bm90LWEtY3Vyc29y')).toThrow(BadRequestException);
  });
});
