import { Writable } from 'node:stream';
import type { AuditEventView } from '../search/audit-event.view';
import { streamExport } from './audit-export.stream';
import { csvField } from './csv';

const row = (id: number): AuditEventView => ({
  id: String(id),
  recordedAt: '2026-01-01T00:00:00.000000Z',
  action: 'fhir.read',
  outcome: 'success',
  service: 'cds-hooks',
  actor: null,
  clientId: 'ehr-a',
  tenant: null,
  patientRef: 'Patient/1',
  requestId: `r-${id}`,
  hookInstance: null,
  detail: { n: id },
  prevHash: '0'.repeat(64),
  hash: '1'.repeat(64),
});

/** A sink that takes one chunk every `delayMs`, with a tiny buffer: forces backpressure. */
function slowSink(delayMs: number) {
  const chunks: string[] = [];
  const sink = new Writable({
    highWaterMark: 16,
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString());
      setTimeout(done, delayMs);
    },
  });
  return { sink, chunks };
}

describe('streamExport', () => {
  it('pulls the next page only once the client has drained the last one (backpressure)', async () => {
    const { sink, chunks } = slowSink(5);
    const pulled: number[] = [];
    async function* pages() {
      for (let p = 0; p < 5; p++) {
        pulled.push(chunks.length);
        yield Array.from({ length: 10 }, (_, i) => row(p * 10 + i));
      }
    }
    expect(await streamExport(pages(), 'ndjson', sink)).toBe(50);
    // Each page was pulled after the previous page's chunk had been consumed by the sink.
    expect(pulled).toEqual([0, 1, 2, 3, 4]);
    expect(chunks.join('').trim().split('\n')).toHaveLength(50);
  });

  it('stops reading pages when the client goes away', async () => {
    const { sink } = slowSink(50);
    let pulled = 0;
    async function* pages() {
      for (;;) {
        pulled++;
        yield [row(pulled)];
      }
    }
    setTimeout(() => sink.destroy(), 20);
    await streamExport(pages(), 'csv', sink);
    expect(pulled).toBeLessThan(5);
  });

  it('writes CSV with a header, quoting, and no spreadsheet formulas', async () => {
    const { sink, chunks } = slowSink(0);
    async function* pages() {
      yield [{ ...row(1), actor: '=HYPERLINK("x")' }];
    }
    await streamExport(pages(), 'csv', sink);
    const [header, line] = chunks.join('').split('\r\n');
    expect(header!.split(',')[0]).toBe('id');
    expect(line).toContain(`"'=HYPERLINK(""x"")"`);
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField(null)).toBe('');
  });
});
