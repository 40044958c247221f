import { Controller, Get, UseGuards } from '@nestjs/common';
import { InternalAuthGuard } from '../auth/internal-auth.guard';
import { RefusalAudit } from './known-service.guard';
import { ServiceCatalog } from './service-catalog';

/** `GET /cds-services`: only for calls the gateway vouched for, like every CDS Hooks route here. */
@Controller('cds-services')
@UseGuards(InternalAuthGuard)
@RefusalAudit('discovery.refused')
export class DiscoveryController {
  constructor(private readonly catalog: ServiceCatalog) {}

  @Get()
  discover(): { services: Array<Record<string, unknown>> } {
    return this.catalog.discovery();
  }
}
