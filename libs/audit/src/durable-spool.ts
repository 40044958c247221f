import { mkdir, open, readdir, readFile, unlink, type FileHandle } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';

export interface DurableSpoolOptions {
  readonly dir: string;
  /** A segment is sealed past this size; a sealed segment is deleted once every entry in it is acknowledged. */
  readonly segmentBytes: number;
  /** Bytes held at most (entries not yet acknowledged, plus the open segment); append() refuses beyond it. */
  readonly maxBytes: number;
}

/** Where an entry was spooled: hand it back to ack() once the entry is safely elsewhere. */
export interface SpoolTicket {
  readonly segment: string;
}

export class SpoolFullError extends Error {
  constructor(maxBytes: number) {
    super(`spool full (${maxBytes} bytes)`);
    this.name = 'SpoolFullError';
  }
}

interface Segment {
  bytes: number;
  outstanding: number;
  sealed: boolean;
}

/** An entry serialised once for the spool: its line and that line's size on disk. */
export interface SpoolLine {
  readonly text: string;
  readonly bytes: number;
}

interface Append {
  readonly line: SpoolLine;
  resolve(t: SpoolTicket): void;
  reject(e: Error): void;
}

const SEGMENT = /^((\d+)-(\d+)-[0-9a-f]+)-(\d+)\.spool$/;

const IDLE_ROTATE_BYTES = 64 * 1024;

/** Spools open in this process: their files are live even though their pid is this process's. */
const liveOwners = new Set<string>();

/**
 * An append-only local journal: append() resolves once the entry is on disk (fdatasync; appends arriving during
 * a sync share the next one), so an entry whose append resolved survives a crash. open() hands back what a dead
 * process (or an earlier run of this one) left, for replay; the consumer must be idempotent, because entries
 * already acknowledged in an unsealed segment are handed back too. Files are named <start ms>-<pid>-<nonce>-<seq>,
 * so spools sharing a directory never replay each other's live files (a pid reused by a live process delays a
 * dead one's replay until that process ends).
 */
export class DurableSpool<T> {
  private readonly owner = `${Date.now()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  private readonly segments = new Map<string, Segment>();
  private readonly pending: Append[] = [];
  private file: { name: string; handle: FileHandle } | undefined;
  private seq = 0;
  private totalBytes = 0;
  /** Bytes appended but not yet written: `pending` and the group being written (a sum, so a check is O(1)). */
  private queuedBytes = 0;
  private flushing: Promise<void> | undefined;

  constructor(
    private readonly opts: DurableSpoolOptions,
    private readonly parse: (json: unknown) => T | undefined,
  ) {
    liveOwners.add(this.owner);
  }

  get bytes(): number {
    return this.totalBytes;
  }

  /** Creates the directory; returns the entries of segments left by processes no longer running. */
  async open(): Promise<Array<{ entry: T; ticket: SpoolTicket }>> {
    await mkdir(this.opts.dir, { recursive: true });
    const found: Array<{ entry: T; ticket: SpoolTicket }> = [];
    const names = (await readdir(this.opts.dir)).filter((n) => SEGMENT.test(n)).sort(bySegmentOrder);
    for (const name of names) {
      const [, owner, , pid] = SEGMENT.exec(name)!;
      if (liveOwners.has(owner!) || (Number(pid) !== process.pid && isRunning(Number(pid)))) continue;
      const text = await readFile(path.join(this.opts.dir, name), 'utf8').catch(() => undefined);
      if (text === undefined) continue; // another process adopted and finished it
      // A line without its newline is a write the crash cut short: its append never resolved, so it is dropped.
      const lines = text.split('\n').slice(0, -1);
      const entries = lines.flatMap((l) => {
        try {
          const e = this.parse(JSON.parse(l));
          return e === undefined ? [] : [e];
        } catch {
          return [];
        }
      });
      this.segments.set(name, { bytes: Buffer.byteLength(text), outstanding: entries.length, sealed: true });
      this.totalBytes += Buffer.byteLength(text);
      for (const entry of entries) found.push({ entry, ticket: { segment: name } });
      if (entries.length === 0) await this.remove(name);
    }
    return found;
  }

  /** `entry` as the spool writes it: serialise once, then check with hasRoom() and write with append(). */
  lineOf(entry: T): SpoolLine {
    const text = `${JSON.stringify(entry)}\n`;
    return { text, bytes: Buffer.byteLength(text) };
  }

  /** Whether `lines` (together) fit under maxBytes now (append() refuses what does not). */
  hasRoom(...lines: SpoolLine[]): boolean {
    return this.fits(lines.reduce((n, l) => n + l.bytes, 0));
  }

  append(entry: T): Promise<SpoolTicket> {
    return this.appendLine(this.lineOf(entry));
  }

  /** append() of an entry already serialised by lineOf(). */
  appendLine(line: SpoolLine): Promise<SpoolTicket> {
    if (!this.fits(line.bytes)) return Promise.reject(new SpoolFullError(this.opts.maxBytes));
    return new Promise<SpoolTicket>((resolve, reject) => {
      this.pending.push({ line, resolve, reject });
      this.queuedBytes += line.bytes;
      this.kick();
    });
  }

  private fits(bytes: number): boolean {
    return this.totalBytes + this.queuedBytes + bytes <= this.opts.maxBytes;
  }

  private kick(): void {
    if (this.flushing) return;
    this.flushing = this.flush().finally(() => {
      this.flushing = undefined;
      // An append that came after the loop's last check, but before this ran, found `flushing` still set.
      if (this.pending.length > 0) this.kick();
    });
  }

  ack(ticket: SpoolTicket): void {
    const seg = this.segments.get(ticket.segment);
    if (!seg) return;
    seg.outstanding -= 1;
    if (seg.sealed && seg.outstanding <= 0) void this.remove(ticket.segment);
  }

  /** Closes the open segment; deletes it when nothing in it is outstanding. */
  async close(): Promise<void> {
    liveOwners.delete(this.owner);
    await this.flushing;
    const f = this.file;
    this.file = undefined;
    if (!f) return;
    await f.handle.close();
    await this.seal(f.name);
  }

  private async flush(): Promise<void> {
    while (this.pending.length > 0) {
      const group = this.pending.splice(0);
      // The group's bytes stay counted as queued while it is written, then move to the segment (or go, if it failed).
      const groupBytes = group.reduce((n, g) => n + g.line.bytes, 0);
      try {
        const file = await this.segmentFor();
        const data = group.map((g) => g.line.text).join('');
        await file.handle.write(data);
        await file.handle.datasync();
        const seg = this.segments.get(file.name)!;
        seg.bytes += groupBytes;
        seg.outstanding += group.length;
        this.totalBytes += groupBytes;
        this.queuedBytes -= groupBytes;
        for (const g of group) g.resolve({ segment: file.name });
      } catch (e) {
        this.queuedBytes -= groupBytes;
        const err = e instanceof Error ? e : new Error('spool write failed');
        for (const g of group) g.reject(err);
        // A failed write may have left a partial line: later appends go to a fresh segment.
        await this.rotate().catch(() => undefined);
      }
    }
  }

  private async segmentFor(): Promise<{ name: string; handle: FileHandle }> {
    const seg = this.file && this.segments.get(this.file.name);
    // A full segment is sealed; so is a settled one past IDLE_ROTATE_BYTES, so a crash replays little that is
    // already stored (replaying it is harmless, the consumer is idempotent, but not free).
    const keep = seg && seg.bytes < this.opts.segmentBytes && (seg.outstanding > 0 || seg.bytes < IDLE_ROTATE_BYTES);
    if (this.file && keep) return this.file;
    await this.rotate();
    this.seq += 1;
    const name = `${this.owner}-${String(this.seq).padStart(6, '0')}.spool`;
    const handle = await open(path.join(this.opts.dir, name), 'a');
    // The new file's directory entry must be durable too, or a crash could lose the whole segment.
    const dir = await open(this.opts.dir, 'r');
    await dir.sync().finally(() => dir.close());
    this.segments.set(name, { bytes: 0, outstanding: 0, sealed: false });
    this.file = { name, handle };
    return this.file;
  }

  private async rotate(): Promise<void> {
    const f = this.file;
    this.file = undefined;
    if (!f) return;
    await f.handle.close().catch(() => undefined);
    await this.seal(f.name);
  }

  private async seal(name: string): Promise<void> {
    const seg = this.segments.get(name);
    if (!seg) return;
    seg.sealed = true;
    if (seg.outstanding <= 0) await this.remove(name);
  }

  private async remove(name: string): Promise<void> {
    const seg = this.segments.get(name);
    this.segments.delete(name);
    if (seg) this.totalBytes -= seg.bytes;
    await unlink(path.join(this.opts.dir, name)).catch(() => undefined);
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function bySegmentOrder(a: string, b: string): number {
  const [, oa, ta, pa, sa] = SEGMENT.exec(a)!;
  const [, ob, tb, pb, sb] = SEGMENT.exec(b)!;
  return Number(ta) - Number(tb) || Number(pa) - Number(pb) || oa!.localeCompare(ob!) || Number(sa) - Number(sb);
}
