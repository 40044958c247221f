import { Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { PeriodicTask } from '@app/timing';
import { ClientRegistry } from './client-registry';
import type { EhrClient } from './ehr-client';
import { loadClientRegistry } from './load-registry';

export interface ClientRegistryCacheOptions {
  /** EHR_CLIENTS_FILE: entries here win over `ehr_clients` rows with the same id. */
  readonly file: string | undefined;
  /** A lookup on a registry older than this reloads it first (Infinity: rely on the background refresh). */
  readonly maxAgeMs: number;
  /** A miss reloads the registry at most this often, so a new client works without waiting a full period. */
  readonly missReloadMs: number;
  /** Background reload period; 0 = only on demand. */
  readonly refreshMs: number;
  /** Load at start-up, so a broken registry stops the app instead of refusing every call. */
  readonly loadAtStart: boolean;
}

/**
 * The registry every app sees (file + `ehr_clients` table), cached and reloaded: the gateway verifies callers
 * against it, cds-hooks checks which FHIR servers a client may be called on. A reload that fails keeps the last
 * good registry.
 */
export class ClientRegistryCache implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(ClientRegistryCache.name);
  private registry: ClientRegistry | undefined;
  private loadedAt = 0;
  private loading: Promise<void> | undefined;
  private readonly refresh: PeriodicTask | undefined;

  constructor(
    private readonly dataSource: DataSource,
    private readonly opts: ClientRegistryCacheOptions,
  ) {
    if (opts.refreshMs > 0) this.refresh = new PeriodicTask(opts.refreshMs, () => this.reload(), { immediate: false });
  }

  async onModuleInit(): Promise<void> {
    if (this.opts.loadAtStart) this.store(await this.load());
    this.refresh?.start();
  }

  onModuleDestroy(): Promise<void> | undefined {
    return this.refresh?.stop();
  }

  /** The registry as last loaded (empty before the first load). */
  current(): ClientRegistry {
    return this.registry ?? new ClientRegistry([]);
  }

  findByIssuer(issuer: string): Promise<EhrClient | undefined> {
    return this.lookup((r) => r.byIssuer(issuer));
  }

  async allowsFhirServer(clientId: string, fhirServer: string): Promise<boolean> {
    return (await this.lookup((r) => (r.allowsFhirServer(clientId, fhirServer) ? true : undefined))) === true;
  }

  async allowsService(clientId: string, serviceId: string): Promise<boolean> {
    return (await this.lookup((r) => (r.allowsService(clientId, serviceId) ? true : undefined))) === true;
  }

  private async lookup<T>(find: (r: ClientRegistry) => T | undefined): Promise<T | undefined> {
    if (!this.registry || Date.now() - this.loadedAt > this.opts.maxAgeMs) await this.reload();
    const hit = find(this.current());
    if (hit !== undefined || Date.now() - this.loadedAt < this.opts.missReloadMs) return hit;
    await this.reload();
    return find(this.current());
  }

  /** Reloads now (after an admin change), sharing a reload already under way; a failure keeps the last registry. */
  reload(): Promise<void> {
    this.loading ??= this.load()
      .then((r) => this.store(r))
      .catch((e: unknown) => {
        this.logger.error(`EHR client registry reload failed, keeping the last one: ${message(e)}`);
      })
      .finally(() => {
        this.loadedAt = Date.now();
        this.loading = undefined;
      });
    return this.loading;
  }

  private store(registry: ClientRegistry): void {
    this.registry = registry;
    this.loadedAt = Date.now();
  }

  private async load(): Promise<ClientRegistry> {
    const { registry, invalidIds } = await loadClientRegistry(this.dataSource, this.opts.file);
    if (invalidIds.length > 0)
      this.logger.error(`ehr_clients rows that do not parse were skipped: ${invalidIds.join(', ')}`);
    return registry;
  }
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
