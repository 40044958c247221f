import type { Writable } from 'node:stream';
import { AUDIT_EVENT_VIEW_FIELDS, type AuditEventView } from '../search/audit-event.view';
import { csvLine } from './csv';

export type ExportFormat = 'ndjson' | 'csv';

export const EXPORT_CONTENT_TYPE: Readonly<Record<ExportFormat, string>> = {
  ndjson: 'application/x-ndjson; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
};

/**
 * Writes pages of rows to `out` as they arrive, waiting for 'drain' when the client reads slowly (backpressure),
 * and stopping when the client goes away. Returns the number of rows written.
 */
export async function streamExport(
  pages: AsyncIterable<AuditEventView[]>,
  format: ExportFormat,
  out: Writable,
): Promise<number> {
  let rows = 0;
  const write = async (chunk: string): Promise<boolean> => {
    if (out.destroyed || out.writableEnded) return false;
    if (!out.write(chunk)) {
      await drainOrClose(out);
    }
    return !out.destroyed;
  };
  if (format === 'csv' && !(await write(csvLine(AUDIT_EVENT_VIEW_FIELDS)))) return rows;
  for await (const page of pages) {
    const chunk = page
      .map((e) => (format === 'csv' ? csvLine(AUDIT_EVENT_VIEW_FIELDS.map((f) => e[f])) : `${JSON.stringify(e)}\n`))
      .join('');
    if (!(await write(chunk))) return rows;
    rows += page.length;
  }
  out.end();
  return rows;
}

/** Resolves on 'drain' or 'close', whichever comes first, leaving no listener behind. */
function drainOrClose(out: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      out.off('drain', done);
      out.off('close', done);
      resolve();
    };
    out.on('drain', done);
    out.on('close', done);
  });
}
