import { Logger } from '@nestjs/common';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { RESULT_CHANNEL } from '@app/contracts';
import { readResultNotification } from '@app/database';
import type { ResultListener, ResultSignal } from './inference-transport';

const RECONNECT_MS = 1000;

/**
 * Reply path over Postgres LISTEN/NOTIFY: every cds-hooks replica hears every announcement and picks up
 * the ones it waits for. A dedicated connection listens and reconnects when it drops.
 *
 * A payload is a bare request id or the stored result row as JSON (the proxy's store statement builds it; see
 * result-notification.ts in libs/database for what travels, model output text included). Payloads are never logged.
 */
export class PgResultSignal implements ResultSignal {
  private readonly logger = new Logger(PgResultSignal.name);
  private readonly listeners = new Set<ResultListener>();
  private client: Client | undefined;
  private stopped = false;
  private reconnecting = false;
  /** The proxy's result store statement notifies this channel at commit (InferenceRepository.storeResults). */
  readonly notifyChannel = RESULT_CHANNEL;

  constructor(
    private readonly dataSource: DataSource,
    private readonly databaseUrl: string,
  ) {}

  /**
   * The id alone: only a result that was already stored is announced this way (a redelivery), and its listeners read
   * it. A fresh result travels in its store statement's NOTIFY, built from the stored row in SQL.
   */
  async announce(requestId: string): Promise<void> {
    await this.dataSource.query('SELECT pg_notify($1, $2)', [RESULT_CHANNEL, requestId]);
  }

  subscribe(listener: ResultListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async listen(): Promise<void> {
    const client = new Client({ connectionString: this.databaseUrl, application_name: 'meditron-cds-results' });
    client.on('notification', (n) => {
      if (n.channel !== RESULT_CHANNEL || !n.payload) return;
      const heard = readResultNotification(n.payload);
      if (heard) for (const l of this.listeners) l(heard.requestId, heard.result);
      // No id to act on: the waiter's poll finds the row. The payload may hold model output: not logged.
      else this.logger.warn('unreadable result notification ignored');
    });
    client.on('error', (e) => {
      this.logger.warn(`result listener connection failed: ${e.message}`);
      this.reconnect(client);
    });
    client.on('end', () => this.reconnect(client));
    try {
      await client.connect();
      await client.query(`LISTEN ${RESULT_CHANNEL}`);
    } catch (e) {
      await client.end().catch(() => undefined);
      throw e;
    }
    this.client = client;
  }

  async close(): Promise<void> {
    this.stopped = true;
    await this.client?.end().catch(() => undefined);
  }

  /** Keeps trying every RECONNECT_MS until listening again (the poll covers the gap); one attempt at a time. */
  private reconnect(dead: Client): void {
    if (this.stopped || this.reconnecting || this.client !== dead) return;
    this.reconnecting = true;
    this.client = undefined;
    const attempt = (): void => {
      if (this.stopped) return;
      this.listen().then(
        () => {
          this.reconnecting = false;
        },
        (e: unknown) => {
          this.logger.warn(`result listener reconnect failed: ${e instanceof Error ? e.message : 'error'}`);
          setTimeout(attempt, RECONNECT_MS).unref();
        },
      );
    };
    setTimeout(attempt, RECONNECT_MS).unref();
  }
}
