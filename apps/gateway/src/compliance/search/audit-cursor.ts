import { BadRequestException } from '@nestjs/common';

/** Opaque keyset cursor: the id of the last row of the page (pages run newest first). */
export function encodeCursor(lastId: string): string {
  return Buffer.from(`a1:${lastId}`, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): string {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const m = /^a1:(\d{1,19})$/.exec(text);
  if (!m?.[1]) throw new BadRequestException('invalid_cursor');
  return m[1];
}
