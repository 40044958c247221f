import { appendFileSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { DurableSpool, SpoolFullError } from './durable-spool';

interface Entry {
  readonly n: number;
}
const parse = (j: unknown): Entry | undefined =>
  typeof j === 'object' && j !== null && typeof (j as Entry).n === 'number' ? { n: (j as Entry).n } : undefined;
const dir = (): string => mkdtempSync(path.join(tmpdir(), 'durable-spool-spec-'));
const spool = (d: string, o: Partial<{ segmentBytes: number; maxBytes: number }> = {}) =>
  new DurableSpool<Entry>({ dir: d, segmentBytes: 1 << 20, maxBytes: 1 << 24, ...o }, parse);

describe('DurableSpool', () => {
  it('hands back, after a stop without acknowledgements, every entry whose append resolved, in order', async () => {
    const d = dir();
    const first = spool(d);
    await first.open();
    await Promise.all(Array.from({ length: 50 }, (_, n) => first.append({ n })));
    await first.close();
    // A write cut short by a crash: a last line without its newline.
    const [file] = readdirSync(d);
    appendFileSync(path.join(d, file!), '{"n": 9');
    const second = spool(d);
    const back = await second.open();
    expect(back.map((b) => b.entry.n)).toEqual(Array.from({ length: 50 }, (_, n) => n));
    for (const b of back) second.ack(b.ticket);
    await second.close();
    await new Promise((r) => setTimeout(r, 20));
    expect(readdirSync(d)).toEqual([]);
  });

  it('deletes a sealed segment once every entry in it is acknowledged', async () => {
    const d = dir();
    const s = spool(d, { segmentBytes: 100 });
    await s.open();
    const tickets = [];
    for (let n = 0; n < 20; n++) tickets.push(await s.append({ n }));
    expect(readdirSync(d).length).toBeGreaterThan(1);
    for (const t of tickets) s.ack(t);
    await s.close();
    await new Promise((r) => setTimeout(r, 20));
    expect(readdirSync(d)).toEqual([]);
  });

  it('refuses an append past maxBytes with SpoolFullError', async () => {
    const s = spool(dir(), { maxBytes: 100 });
    await s.open();
    await s.append({ n: 1 });
    const results = await Promise.allSettled(Array.from({ length: 20 }, (_, n) => s.append({ n })));
    expect(results.some((r) => r.status === 'rejected' && r.reason instanceof SpoolFullError)).toBe(true);
    await s.close();
  });

  it('counts appends still queued for the disk against maxBytes, exactly, and only until they are written', async () => {
    const s = spool(dir(), { maxBytes: 100 });
    await s.open();
    const line = s.lineOf({ n: 1 }); // `{"n":1}\n`: 8 bytes
    expect(line.bytes).toBe(8);
    // Twelve fit (96 bytes), queued behind the first sync; the thirteenth would make 104.
    const queued = Array.from({ length: 12 }, () => s.appendLine(line));
    expect(s.hasRoom(line)).toBe(false);
    expect(s.hasRoom({ text: '123\n', bytes: 4 })).toBe(true); // exactly 100
    await expect(s.append({ n: 2 })).rejects.toBeInstanceOf(SpoolFullError);
    const tickets = await Promise.all(queued);
    expect(s.bytes).toBe(96);
    // Written and acknowledged: the sealed segment goes, and its bytes with it.
    for (const t of tickets) s.ack(t);
    await s.close();
    await new Promise((r) => setTimeout(r, 20));
    expect(s.bytes).toBe(0);
  });

  it('never replays the files of a spool still open in this process', async () => {
    const d = dir();
    const live = spool(d);
    await live.open();
    await live.append({ n: 1 });
    expect(await spool(d).open()).toEqual([]);
    await live.close();
    expect((await spool(d).open()).map((b) => b.entry.n)).toEqual([1]);
  });
});
