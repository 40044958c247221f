import { QueryFailedError } from 'typeorm';
import { errorKind } from './error-kind';

describe('errorKind', () => {
  it('names a database error by class and SQLSTATE, never by its message (which quotes the row)', () => {
    const driverError = Object.assign(
      new Error('duplicate key value violates unique constraint: Key (mrn)=(MRN-12345)'),
      {
        code: '23505',
      },
    );
    const e = new QueryFailedError('INSERT INTO x VALUES ($1)', ['MRN-12345'], driverError);
    expect(errorKind(e)).toBe('QueryFailedError (code 23505)');
    expect(errorKind(e)).not.toContain('12345');
  });

  it('keeps Node codes, drops code fields that are free text, and names non-errors by type', () => {
    expect(errorKind(Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:5432'), { code: 'ECONNREFUSED' }))).toBe(
      'Error (code ECONNREFUSED)',
    );
    expect(errorKind(Object.assign(new TypeError('x'), { code: 'Jane Doe, born 1970' }))).toBe('TypeError');
    expect(errorKind('Patient Jane')).toBe('non-error thrown (string)');
  });
});
