import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { ehrClientRegistrySchema, ehrClientSchema, type EhrClient } from './ehr-client';
import type { ClientStore } from './client-store';

/** The registry as a JSON file `{ "clients": [...] }`; a missing file is an empty registry. */
export class ClientFileStore implements ClientStore {
  constructor(private readonly path: string) {}

  async list(): Promise<EhrClient[]> {
    if (!existsSync(this.path)) return [];
    return ehrClientRegistrySchema.parse(JSON.parse(readFileSync(this.path, 'utf8'))).clients;
  }

  async upsert(client: EhrClient): Promise<void> {
    const parsed = ehrClientSchema.parse(client);
    const others = (await this.list()).filter((c) => c.id !== parsed.id);
    this.write([...others, parsed]);
  }

  async remove(id: string): Promise<boolean> {
    const clients = await this.list();
    const kept = clients.filter((c) => c.id !== id);
    if (kept.length === clients.length) return false;
    this.write(kept);
    return true;
  }

  /** Write then rename, so a reader never sees half a file. */
  private write(clients: EhrClient[]): void {
    const tmp = `${this.path}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify({ clients }, null, 2) + '\n', { mode: 0o644 });
    renameSync(tmp, this.path);
  }
}
