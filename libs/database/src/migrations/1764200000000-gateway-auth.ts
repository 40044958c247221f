import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The EHR client registry table and the JWT replay guard shared by every gateway replica. */
export class GatewayAuth1764200000000 implements MigrationInterface {
  name = 'GatewayAuth1764200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE ehr_clients (
        id text PRIMARY KEY,
        definition jsonb NOT NULL,
        updated_at timestamptz NOT NULL
      )`);
    // Only a hash of (issuer, jti) and when the token expires: never the token.
    await q.query(`
      CREATE TABLE jwt_replay (
        jti_hash char(64) PRIMARY KEY,
        expires_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX ix_jwt_replay_expires_at ON jwt_replay (expires_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE jwt_replay`);
    await q.query(`DROP TABLE ehr_clients`);
  }
}
