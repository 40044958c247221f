import { lookup } from 'node:dns/promises';
import { Logger } from '@nestjs/common';
import type { BackendTarget } from '@app/config';
import type { BackendPool } from './backend-pool.service';
import type { BackendState } from './backend-state';
import { PeriodicTask } from '@app/timing';

/**
 * Addresses a name stands for now. `[]` when the name has none (a headless Service with no ready engine
 * answers NXDOMAIN); throws when the answer is unknown (resolver down, timeout), so a DNS outage drains nothing.
 */
export type ResolveHost = (hostname: string) => Promise<ReadonlyArray<string>>;

const NO_ADDRESS = new Set(['ENOTFOUND', 'ENODATA']);

/**
 * The system resolver (getaddrinfo: search domains, /etc/hosts, both families), as a pod's own lookups see it.
 * Kubernetes serves a headless Service's records with a short TTL, so each call sees the current endpoints.
 */
export const lookupAll: ResolveHost = async (hostname) => {
  try {
    const found = await lookup(hostname, { all: true, family: 0 });
    return [...new Set(found.map((a) => a.address))];
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== undefined && NO_ADDRESS.has(code)) return [];
    throw e;
  }
};

/**
 * Keeps the pool's discovered engines current: re-resolves each `dns+` source of INFERENCE_BACKENDS every
 * interval (DNS instead of the Kubernetes API: no Role, no token mounted), adds new addresses as engines,
 * probes them at once so they take traffic as soon as they pass, and drains those no longer listed.
 */
export class BackendDiscovery {
  private readonly logger = new Logger(BackendDiscovery.name);
  private readonly task: PeriodicTask;
  /** Sources whose last resolution failed or found nothing, so each state change is logged once. */
  private readonly troubled = new Set<string>();

  constructor(
    private readonly pool: BackendPool,
    intervalMs: number,
    private readonly resolve: ResolveHost = lookupAll,
    /** First health probe of a new engine (BackendHealth.probeOne). */
    private readonly admit?: (backend: BackendState) => Promise<void>,
  ) {
    this.task = new PeriodicTask(intervalMs, () => this.resolveAll());
  }

  start(): void {
    if (this.pool.sources.length > 0) this.task.start();
  }

  stop(): Promise<void> {
    return this.task.stop();
  }

  /** Resolves every source once (also what the timer runs); one failing source leaves the others current. */
  resolveAll(): Promise<void> {
    return Promise.all(this.pool.sources.map((s) => this.refresh(s))).then(() => undefined);
  }

  private async refresh(source: BackendTarget): Promise<void> {
    const hostname = new URL(source.baseUrl).hostname;
    let addresses: ReadonlyArray<string>;
    try {
      addresses = await this.resolve(hostname);
    } catch (e) {
      if (!this.troubled.has(source.id))
        this.logger.warn(
          `cannot resolve ${hostname} for ${source.id} (${e instanceof Error ? e.message : 'error'}); keeping its ${this.count(source)} engine(s)`,
        );
      this.troubled.add(source.id);
      return;
    }
    if (addresses.length === 0 && !this.troubled.has(source.id))
      this.logger.warn(`${hostname} (${source.id}) resolves to no engine; its engines drain`);
    if (addresses.length === 0) this.troubled.add(source.id);
    else this.troubled.delete(source.id);
    const added = this.pool.reconcile(source, addresses);
    if (this.admit) await Promise.all(added.map((b) => this.admit!(b)));
  }

  private count(source: BackendTarget): number {
    return this.pool.backends.filter((b) => b.source === source.id && !b.draining).length;
  }
}
