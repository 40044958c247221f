import { provisionRuntimeLogins, runtimeUrl, type RuntimeApp, type RuntimeLogin } from '@app/database';

/** One login per app for every test database on the cluster (roles are cluster-wide; grants are per database). */
const TEST_LOGINS: Record<RuntimeApp, RuntimeLogin> = {
  gateway: { user: 'meditron_test_gateway' },
  cdsHooks: { user: 'meditron_test_cds_hooks' },
  inferenceProxy: { user: 'meditron_test_inference_proxy' },
};

export type RuntimeUrls = Readonly<Record<RuntimeApp, string>>;

/**
 * Each app's own login on a migrated test database, as the chart and `npm start` run them: members of the
 * runtime group roles, never the owner. The machine's Postgres trusts local logins, so no passwords.
 */
export async function runtimeUrls(ownerUrl: string): Promise<RuntimeUrls> {
  await provisionRuntimeLogins(ownerUrl, TEST_LOGINS);
  return {
    gateway: runtimeUrl(ownerUrl, TEST_LOGINS.gateway),
    cdsHooks: runtimeUrl(ownerUrl, TEST_LOGINS.cdsHooks),
    inferenceProxy: runtimeUrl(ownerUrl, TEST_LOGINS.inferenceProxy),
  };
}
