import { Logger } from '@nestjs/common';
import { engineUrl, type BackendTarget } from '@app/config';
import { BackendClient } from './backend-client';
import type { BackendHttp } from './backend-http';
import { BackendState } from './backend-state';

/**
 * The pool's engines. Listed ones stay for the process's life; discovered ones are added when their source
 * resolves to a new address (unhealthy until a health probe passes) and drained when it stops doing so: no
 * new calls, removed once the calls they hold finish. A drained engine that comes back is taken back as is.
 */
export class BackendMembership {
  private readonly logger = new Logger(BackendMembership.name);
  /** Mutated in place, never replaced: health checks, scrapes and metrics hold this same array. */
  readonly backends: BackendState[] = [];
  /** `INFERENCE_BACKENDS` entries that name a set of engines (`dns+`), resolved by BackendDiscovery. */
  readonly sources: ReadonlyArray<BackendTarget>;
  private readonly clients = new Map<string, BackendClient>();

  constructor(
    targets: ReadonlyArray<BackendTarget>,
    private readonly http: BackendHttp,
    private readonly onRemoved?: (backendId: string) => void,
  ) {
    this.sources = targets.filter((t) => t.discovery === 'dns');
    for (const t of targets) if (t.discovery !== 'dns') this.add(t, null);
  }

  client(backendId: string): BackendClient | undefined {
    return this.clients.get(backendId);
  }

  /** Engines that take new calls (draining ones excluded). */
  serving(): number {
    return this.backends.filter((b) => !b.draining).length;
  }

  /**
   * Makes the engines found through `source` the ones at `addresses`: new ones are added (and returned, for
   * their first health probe), missing ones are drained.
   */
  reconcile(source: BackendTarget, addresses: ReadonlyArray<string>): BackendState[] {
    const wanted = new Map<string, BackendTarget>();
    for (const address of addresses) {
      const baseUrl = engineUrl(source.baseUrl, address);
      const id = `${source.kind}@${new URL(baseUrl).host}`;
      wanted.set(id, { id, kind: source.kind, baseUrl });
    }
    const added: BackendState[] = [];
    for (const [id, target] of wanted) {
      const known = this.backends.find((b) => b.id === id);
      if (!known) {
        const b = this.add(target, source.id);
        // Never routed to before its first passing probe (the engine may still be loading the model).
        b.healthy = false;
        added.push(b);
        this.logger.log(`engine ${id} discovered through ${source.id}; admitted once its health probe passes`);
      } else if (known.draining && known.source === source.id) {
        known.draining = false;
        this.logger.log(`engine ${id} is back in ${source.id}; no longer draining`);
      }
    }
    for (const b of this.backends) {
      if (b.source !== source.id || b.draining || wanted.has(b.id)) continue;
      b.draining = true;
      this.logger.log(`engine ${b.id} left ${source.id}; draining ${b.outstanding} call(s)`);
    }
    this.settle();
    return added;
  }

  /** One call on `b` finished: a draining engine with none left is removed. */
  release(b: BackendState): void {
    b.outstanding -= 1;
    if (b.draining) this.settle();
  }

  private add(target: BackendTarget, source: string | null): BackendState {
    const b = new BackendState(target, source);
    this.backends.push(b);
    this.clients.set(b.id, new BackendClient(b.target, this.http, () => b.facts));
    return b;
  }

  private settle(): void {
    for (let i = this.backends.length - 1; i >= 0; i--) {
      const b = this.backends[i]!;
      if (!b.draining || b.outstanding > 0) continue;
      this.backends.splice(i, 1);
      this.clients.delete(b.id);
      this.logger.log(`engine ${b.id} drained; removed`);
      this.onRemoved?.(b.id);
    }
  }
}
