import { Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { ClientTableStore, ehrClientSchema, type EhrClient } from '@app/clients';
import { BodyRefusal, JsonBodyReader } from '../forwarding/json-body-reader.service';

export type ParsedClient =
  | { readonly ok: true; readonly client: EhrClient }
  | { readonly ok: false; readonly reason: 'invalid_client' | 'id_mismatch' | 'private_key_material' | string };

/** Private JWK members: a client registers its public keys only. */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'];

/** Reads and checks a client definition from an admin's request, and writes it to the `ehr_clients` table. */
@Injectable()
export class AdminClientWriter {
  constructor(
    private readonly store: ClientTableStore,
    private readonly body: JsonBodyReader,
  ) {}

  async parse(req: Request, id: string): Promise<ParsedClient> {
    let raw: Record<string, unknown>;
    try {
      raw = await this.body.read(req);
    } catch (e) {
      if (e instanceof BodyRefusal) return { ok: false, reason: e.code };
      throw e;
    }
    const parsed = ehrClientSchema.safeParse({ ...raw, id: raw['id'] ?? id });
    if (!parsed.success) return { ok: false, reason: 'invalid_client' };
    if (parsed.data.id !== id) return { ok: false, reason: 'id_mismatch' };
    if (parsed.data.jwks?.keys.some((k) => PRIVATE_MEMBERS.some((m) => m in k))) {
      return { ok: false, reason: 'private_key_material' };
    }
    return { ok: true, client: parsed.data };
  }

  upsert(client: EhrClient): Promise<void> {
    return this.store.upsert(client);
  }

  remove(id: string): Promise<boolean> {
    return this.store.remove(id);
  }
}
