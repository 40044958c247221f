import type { MigrationInterface, QueryRunner } from 'typeorm';
import { RUNTIME_ROLES } from '../roles/runtime-roles';

const APP_ROLES = Object.values(RUNTIME_ROLES).join(', ');

/** SQL: true when the running role may change this database's privileges (its owner, a member of it, or a superuser). */
const MAY_GRANT = `pg_has_role(current_user, (SELECT datdba FROM pg_database WHERE datname = current_database()), 'USAGE')
  OR (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)`;

/** A DO block running `grants` (format strings, %I the database) when MAY_GRANT holds, else `otherwise`. */
function onThisDatabase(grants: readonly string[], otherwise = 'NULL;'): string {
  return `
    DO $$ BEGIN
      IF ${MAY_GRANT} THEN
        ${grants.map((g) => `EXECUTE format('${g}', current_database());`).join('\n        ')}
      ELSE
        ${otherwise}
      END IF;
    END $$`;
}

/**
 * CONNECT on the database only for the app roles (and the owner and superusers, who always have it), not PUBLIC.
 * The reply path's NOTIFY carries a stored result, model output included (libs/database result-notification), and
 * LISTEN needs no privilege beyond connecting: a login of another application on the same cluster must not be able to
 * hear it. Only the database's owner (or a superuser) can change its privileges; a migration run by a role that is
 * neither (a schema owner on a managed database) leaves them as they are and says so: then the database's owner
 * should run the two statements the warning names.
 */
export class DatabaseConnect1764550000000 implements MigrationInterface {
  name = 'DatabaseConnect1764550000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      onThisDatabase(
        ['REVOKE CONNECT ON DATABASE %I FROM PUBLIC', `GRANT CONNECT ON DATABASE %I TO ${APP_ROLES}`],
        `RAISE WARNING 'CONNECT on database % is left to its owner: REVOKE CONNECT ON DATABASE % FROM PUBLIC; GRANT CONNECT ON DATABASE % TO ${APP_ROLES}',
          current_database(), current_database(), current_database();`,
      ),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(
      onThisDatabase(['GRANT CONNECT ON DATABASE %I TO PUBLIC', `REVOKE CONNECT ON DATABASE %I FROM ${APP_ROLES}`]),
    );
  }
}
