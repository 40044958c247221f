import type { Adapter, AdapterPayload } from 'oidc-provider' with { 'resolution-mode': 'import' };

interface Entry {
  readonly payload: AdapterPayload;
  readonly expiresAt: number;
}

/**
 * oidc-provider's storage, in this process's memory (the development provider is one process; a restart signs everyone
 * out). Configured explicitly so the provider does not warn about its own quick-start adapter at every start.
 */
export function memoryAdapter(): (model: string) => Adapter {
  const store = new Map<string, Entry>();
  return (model) => new MemoryAdapter(store, model);
}

class MemoryAdapter implements Adapter {
  constructor(
    private readonly store: Map<string, Entry>,
    private readonly model: string,
  ) {}

  private key(id: string): string {
    return `${this.model}:${id}`;
  }

  async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
    this.store.set(this.key(id), { payload, expiresAt: Date.now() + expiresIn * 1000 });
    if (payload.grantId) {
      const grant = `grant:${payload.grantId}`;
      const ids = this.store.get(grant)?.payload['ids'];
      const list = Array.isArray(ids) ? ids.filter((x): x is string => typeof x === 'string') : [];
      this.store.set(grant, { payload: { ids: [...list, this.key(id)] }, expiresAt: Number.MAX_SAFE_INTEGER });
    }
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    const e = this.store.get(this.key(id));
    if (!e) return undefined;
    if (e.expiresAt <= Date.now()) {
      this.store.delete(this.key(id));
      return undefined;
    }
    return e.payload;
  }

  async findByUserCode(): Promise<AdapterPayload | undefined> {
    return undefined;
  }

  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    for (const [k, e] of this.store) {
      if (k.startsWith(`${this.model}:`) && e.payload.uid === uid) return this.find(k.slice(this.model.length + 1));
    }
    return undefined;
  }

  async consume(id: string): Promise<void> {
    const e = this.store.get(this.key(id));
    if (e) e.payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id: string): Promise<void> {
    this.store.delete(this.key(id));
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    const grant = `grant:${grantId}`;
    const ids = this.store.get(grant)?.payload['ids'];
    if (Array.isArray(ids)) for (const k of ids) if (typeof k === 'string') this.store.delete(k);
    this.store.delete(grant);
  }
}
