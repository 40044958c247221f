import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { loadClientRegistry, type ClientRegistry } from '@app/clients';
import { CDS_HOOKS_CONFIG, type CdsHooksConfig } from '../cds-hooks.config';

/** A registry this old is reloaded before use; a miss reloads it at most this often. */
const MAX_AGE_MS = 30_000;
const MISS_RELOAD_MS = 5_000;

/**
 * Which FHIR servers cds-hooks may call for which EHR client: the same registry the gateway verifies
 * clients against (file + `ehr_clients` table), cached and reloaded, so a new client works without a restart.
 */
@Injectable()
export class FhirAllowList {
  private readonly logger = new Logger(FhirAllowList.name);
  private registry: ClientRegistry | undefined;
  private loadedAt = 0;
  private loading: Promise<void> | undefined;

  constructor(
    private readonly dataSource: DataSource,
    @Inject(CDS_HOOKS_CONFIG) private readonly config: CdsHooksConfig,
  ) {}

  async allows(clientId: string | undefined, fhirServer: string | undefined): Promise<boolean> {
    if (!clientId || !fhirServer) return false;
    if (!this.registry || Date.now() - this.loadedAt > MAX_AGE_MS) await this.reload();
    if (this.registry?.allowsFhirServer(clientId, fhirServer)) return true;
    if (Date.now() - this.loadedAt < MISS_RELOAD_MS) return false;
    await this.reload();
    return this.registry?.allowsFhirServer(clientId, fhirServer) === true;
  }

  private reload(): Promise<void> {
    this.loading ??= loadClientRegistry(this.dataSource, this.config.EHR_CLIENTS_FILE)
      .then(({ registry }) => {
        this.registry = registry;
      })
      .catch((e: unknown) =>
        this.logger.error(`EHR client registry reload failed: ${e instanceof Error ? e.message : String(e)}`),
      )
      .finally(() => {
        this.loadedAt = Date.now();
        this.loading = undefined;
      });
    return this.loading;
  }
}
