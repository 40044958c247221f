import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { ClientLookup } from '@app/auth';
import { ClientRegistry, loadClientRegistry, type EhrClient } from '@app/clients';
import { GATEWAY_CONFIG, type GatewayConfig } from '../gateway.config';

/** An unknown issuer reloads the registry at most this often (a new client works without waiting a full period). */
const UNKNOWN_ISSUER_RELOAD_MS = 5000;

/**
 * The EHR clients the gateway trusts: the JSON file (EHR_CLIENTS_FILE) plus the `ehr_clients` table, reloaded
 * every EHR_CLIENTS_REFRESH_MS. A file entry wins over a table row with the same id. A reload that fails keeps
 * the last good registry.
 */
@Injectable()
export class ClientDirectory implements ClientLookup, OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(ClientDirectory.name);
  private registry = new ClientRegistry([]);
  private loadedAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly dataSource: DataSource,
  ) {}

  /** First load: a broken registry stops start-up. */
  async onModuleInit(): Promise<void> {
    this.registry = await this.load();
    this.loadedAt = Date.now();
    this.timer = setInterval(() => void this.reload(), this.config.EHR_CLIENTS_REFRESH_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  current(): ClientRegistry {
    return this.registry;
  }

  async findByIssuer(issuer: string): Promise<EhrClient | undefined> {
    const hit = this.registry.byIssuer(issuer);
    if (hit || Date.now() - this.loadedAt < UNKNOWN_ISSUER_RELOAD_MS) return hit;
    await this.reload();
    return this.registry.byIssuer(issuer);
  }

  private reload(): Promise<void> {
    this.inFlight ??= this.load()
      .then((r) => {
        this.registry = r;
      })
      .catch((e: unknown) => {
        this.logger.error(`EHR client registry reload failed, keeping the last one: ${message(e)}`);
      })
      .finally(() => {
        this.loadedAt = Date.now();
        this.inFlight = undefined;
      });
    return this.inFlight;
  }

  private async load(): Promise<ClientRegistry> {
    const { registry, invalidIds } = await loadClientRegistry(this.dataSource, this.config.EHR_CLIENTS_FILE);
    if (invalidIds.length > 0)
      this.logger.error(`ehr_clients rows that do not parse were skipped: ${invalidIds.join(', ')}`);
    return registry;
  }
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
