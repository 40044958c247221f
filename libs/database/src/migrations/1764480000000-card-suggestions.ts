import type { MigrationInterface, QueryRunner } from 'typeorm';
import { RUNTIME_ROLES } from '../roles/runtime-roles';

/** Suggestions each card carried (kind and configured code only), so feedback can be checked and counted. */
export class CardSuggestions1764480000000 implements MigrationInterface {
  name = 'CardSuggestions1764480000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE cds_card_suggestions (
        uuid uuid PRIMARY KEY,
        card_uuid uuid NOT NULL REFERENCES cds_cards (uuid),
        service_id text NOT NULL,
        kind text NOT NULL CHECK (kind IN ('remove-draft', 'replace-draft', 'order-lab')),
        code text,
        created_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX ix_cds_card_suggestions_card ON cds_card_suggestions (card_uuid)`);
    await q.query(`CREATE INDEX ix_cds_card_suggestions_service_kind ON cds_card_suggestions (service_id, kind)`);
    // cds-hooks records what each card carried; the gateway reads it for explanations and the dashboard.
    await q.query(`GRANT SELECT, INSERT ON cds_card_suggestions TO ${RUNTIME_ROLES.cdsHooks}`);
    await q.query(`GRANT SELECT ON cds_card_suggestions TO ${RUNTIME_ROLES.gateway}`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE cds_card_suggestions`);
  }
}
