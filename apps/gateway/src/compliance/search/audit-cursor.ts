import { BadRequestException } from '@nestjs/common';

/** Opaque keyset cursor: the id of the last row of the page (pages run newest first). */
export function encodeCursor(lastId: string): string {
  return Buffer.from(`a1:${lastId}`, 'utf8').toString('base64url');
}

const BIGINT_MAX = 9223372036854775807n;

/**
 * An audit event id as Postgres `bigint` takes it: 1 to 2^63-1, digits only. Nineteen digits alone is not
 * enough (`9999999999999999999` overflows): the database would raise, a 500 would follow and its error text
 * would reach the log. Checked here so a bad id is a 400 (or 404) and never reaches SQL.
 */
export function isAuditId(text: string): boolean {
  return /^[1-9]\d{0,18}$/.test(text) && BigInt(text) <= BIGINT_MAX;
}

export function decodeCursor(cursor: string): string {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const m = /^a1:(\d{1,19})$/.exec(text);
  if (!m?.[1] || !isAuditId(m[1])) throw new BadRequestException('invalid_cursor');
  return m[1];
}
