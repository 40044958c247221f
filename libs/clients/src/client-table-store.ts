import type { DataSource } from 'typeorm';
import { ehrClientSchema, type EhrClient } from './ehr-client';
import type { ClientStore } from './client-store';

interface ClientRow {
  readonly id: string;
  readonly definition: unknown;
}

/** The registry in Postgres (`ehr_clients`, one JSON definition per client), shared by every gateway replica. */
export class ClientTableStore implements ClientStore {
  constructor(private readonly dataSource: DataSource) {}

  /** Rows that no longer parse are skipped (and named by `listWithProblems`) rather than taking the gateway down. */
  async list(): Promise<EhrClient[]> {
    return (await this.listWithProblems()).clients;
  }

  async listWithProblems(): Promise<{ clients: EhrClient[]; invalidIds: string[] }> {
    const rows: ClientRow[] = await this.dataSource.query(`SELECT id, definition FROM ehr_clients ORDER BY id`);
    const clients: EhrClient[] = [];
    const invalidIds: string[] = [];
    for (const row of rows) {
      const parsed = ehrClientSchema.safeParse(row.definition);
      if (parsed.success && parsed.data.id === row.id) clients.push(parsed.data);
      else invalidIds.push(row.id);
    }
    return { clients, invalidIds };
  }

  async upsert(client: EhrClient): Promise<void> {
    const parsed = ehrClientSchema.parse(client);
    await this.dataSource.query(
      `INSERT INTO ehr_clients (id, definition, updated_at) VALUES ($1, $2::jsonb, now())
       ON CONFLICT (id) DO UPDATE SET definition = EXCLUDED.definition, updated_at = now()`,
      [parsed.id, JSON.stringify(parsed)],
    );
  }

  async remove(id: string): Promise<boolean> {
    // Wrapped in a SELECT: TypeORM answers a bare DELETE with [rows, count].
    const rows: Array<{ id: string }> = await this.dataSource.query(
      `WITH gone AS (DELETE FROM ehr_clients WHERE id = $1 RETURNING id) SELECT id FROM gone`,
      [id],
    );
    return rows.length > 0;
  }
}
