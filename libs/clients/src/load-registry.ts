import type { DataSource } from 'typeorm';
import { ClientFileStore } from './client-file-store';
import { ClientRegistry } from './client-registry';
import { ClientTableStore } from './client-table-store';

/**
 * The registry every app sees: the JSON file (EHR_CLIENTS_FILE) plus the `ehr_clients` table. A file entry
 * wins over a table row with the same id. Rows that do not parse are skipped and named.
 */
export async function loadClientRegistry(
  dataSource: DataSource,
  file: string | undefined,
): Promise<{ registry: ClientRegistry; invalidIds: string[] }> {
  const fromFile = file ? await new ClientFileStore(file).list() : [];
  const table = await new ClientTableStore(dataSource).listWithProblems();
  const fileIds = new Set(fromFile.map((c) => c.id));
  return {
    registry: new ClientRegistry([...fromFile, ...table.clients.filter((c) => !fileIds.has(c.id))]),
    invalidIds: table.invalidIds,
  };
}
