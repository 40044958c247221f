import { Controller, Get } from '@nestjs/common';
import { ServiceCatalog } from './service-catalog';

@Controller('cds-services')
export class DiscoveryController {
  constructor(private readonly catalog: ServiceCatalog) {}

  @Get()
  discover(): { services: Array<Record<string, unknown>> } {
    return this.catalog.discovery();
  }
}
