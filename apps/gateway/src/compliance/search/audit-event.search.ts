import { Injectable } from '@nestjs/common';
import { AuditEventRepository, type AuditPage, type AuditSearchFilters } from '@app/database';
import type { AuditEventView } from './audit-event.view';

export type { AuditPage } from '@app/database';

/** The compliance API's searches over the audit trail (keyset pages, exports) on the audit event repository. */
@Injectable()
export class AuditEventSearch {
  constructor(private readonly events: AuditEventRepository) {}

  page(filters: AuditSearchFilters, limit: number, beforeId?: string): Promise<AuditPage> {
    return this.events.page(filters, limit, beforeId);
  }

  byId(id: string): Promise<AuditEventView | null> {
    return this.events.byId(id);
  }

  /** Every matching row, page by page, for exports: memory stays at one page whatever the result size. */
  async *all(filters: AuditSearchFilters, pageSize = 1000): AsyncGenerator<AuditEventView[]> {
    let before: string | undefined;
    for (;;) {
      const page = await this.page(filters, pageSize, before);
      if (page.items.length > 0) yield page.items;
      if (!page.nextAfterId) return;
      before = page.nextAfterId;
    }
  }
}
