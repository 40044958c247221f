import type { Socket } from 'node:net';
import { Logger } from '@nestjs/common';
import type { PGlite } from '@electric-sql/pglite';
import { FrontendMessageFramer, type FrontendMessage } from './frontend-message-framer';
import { SessionWaitAbandonedError, type PgliteSessionLock } from './pglite-session-lock';

/** The part of PGlite a connection drives. */
export type PgliteSession = Pick<PGlite, 'execProtocolRawStream' | 'isInTransaction' | 'runExclusive' | 'exec'>;

export interface PgliteConnectionOptions {
  /**
   * How long a connection may hold the session without sending the rest of its unit of work (an open
   * transaction, or an extended-protocol batch before its Sync) before it is cut off, like Postgres's
   * idle_in_transaction_session_timeout: one stuck client must not stop every other one.
   */
  readonly holdTimeoutMs: number;
  readonly onClose: (c: PgliteConnection) => void;
}

const SYNC = Buffer.from([0x53, 0, 0, 0, 4]);
const NOT_SUPPORTED = Buffer.from('N');

/**
 * One client socket on the embedded database. Its messages run in order, in batches, while it holds the
 * session lock; the lock is let go only when the session is clean for the next client (see PgliteSessionLock).
 */
export class PgliteConnection {
  private readonly logger = new Logger('EmbeddedPostgres');
  private readonly framer = new FrontendMessageFramer();
  private pending: FrontendMessage[] = [];
  private draining = false;
  private closed = false;
  /** The last message this connection ran while it holds the session (Sync or Query end a unit of work). */
  private lastType: string | undefined;
  private holdTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly socket: Socket,
    private readonly db: PgliteSession,
    private readonly lock: PgliteSessionLock,
    private readonly opts: PgliteConnectionOptions,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', () => void this.close());
    socket.on('close', () => void this.close());
  }

  /** Cuts the connection off (server stop, hold timeout); its session state is cleaned up for the next client. */
  destroy(): void {
    this.socket.destroy();
    void this.close();
  }

  private receive(chunk: Buffer): void {
    if (this.closed) return;
    const input = this.framer.push(chunk);
    for (let i = 0; i < input.encryptionRequests; i++) this.socket.write(NOT_SUPPORTED);
    if (input.cancel) {
      this.socket.end();
      return;
    }
    this.pending.push(...input.messages);
    void this.drain();
  }

  private async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.pending.length > 0 && !this.closed) {
        if (this.pending[0]!.type === 'X') {
          // Terminate: the client is leaving (close() ends whatever it left open).
          this.socket.end();
          await this.close();
          return;
        }
        await this.lock.acquire(this);
        // Closed while waiting for its turn: close() has let the session go.
        if (this.closed) return;
        this.clearHoldTimer();
        await this.run(this.takeBatch());
        // Closed meanwhile: close() cleans the session up and lets it go.
        if (this.closed) return;
        const clean = ['S', 'Q', 'startup'].includes(this.lastType ?? '') && !this.db.isInTransaction();
        if (clean) this.lock.release(this);
        else this.armHoldTimer();
      }
    } catch (e) {
      if (!(e instanceof SessionWaitAbandonedError)) {
        this.logger.error(`embedded database connection failed: ${e instanceof Error ? e.message : String(e)}`);
      }
      this.destroy();
    } finally {
      this.draining = false;
    }
  }

  /**
   * The pending messages up to a Terminate (left for drain to handle). The startup packet always runs on its own:
   * PGlite reads nothing after it in the same call.
   */
  private takeBatch(): FrontendMessage[] {
    if (this.pending[0]!.type === 'startup') return this.pending.splice(0, 1);
    const end = this.pending.findIndex((m) => m.type === 'X');
    return end === -1 ? this.pending.splice(0) : this.pending.splice(0, end);
  }

  private run(batch: readonly FrontendMessage[]): Promise<void> {
    const bytes = batch.length === 1 ? batch[0]!.bytes : Buffer.concat(batch.map((m) => m.bytes));
    return this.db.runExclusive(async () => {
      await this.db.execProtocolRawStream(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length), {
        onRawData: (data) => {
          // PGlite hands out a view of its own memory: copy before it is reused.
          if (!this.closed && data.length > 0) this.socket.write(Buffer.from(data));
        },
      });
      this.lastType = batch.at(-1)!.type;
    });
  }

  private armHoldTimer(): void {
    this.holdTimer = setTimeout(() => {
      this.logger.warn(
        `an embedded database connection held the session for ${this.opts.holdTimeoutMs} ms without finishing ` +
          `its ${this.db.isInTransaction() ? 'transaction' : 'batch'}: connection closed`,
      );
      this.destroy();
    }, this.opts.holdTimeoutMs);
    this.holdTimer.unref();
  }

  private clearHoldTimer(): void {
    clearTimeout(this.holdTimer);
    this.holdTimer = undefined;
  }

  /** Leaves the session as a new client expects it: no half-run extended batch, no open transaction. */
  private async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.clearHoldTimer();
    this.pending = [];
    this.lock.abandon(this);
    try {
      if (this.lock.owner === this) {
        // Wait for a batch still running in PGlite, then end what it left open.
        await this.db.runExclusive(async () => undefined);
        if (this.lastType !== 'S' && this.lastType !== 'Q') {
          await this.db.runExclusive(() =>
            this.db.execProtocolRawStream(new Uint8Array(SYNC), { onRawData: () => {} }),
          );
        }
        if (this.db.isInTransaction()) await this.db.exec('ROLLBACK');
      }
    } catch (e) {
      this.logger.error(`embedded database session cleanup failed: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      this.lock.release(this);
      this.opts.onClose(this);
    }
  }
}
