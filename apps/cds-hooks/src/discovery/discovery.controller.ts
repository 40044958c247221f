import { Controller, Get } from '@nestjs/common';
import { defaultServices, type CdsServiceDefinition } from './service-catalog';

@Controller('cds-services')
export class DiscoveryController {
  @Get()
  discover(): { services: ReadonlyArray<CdsServiceDefinition> } {
    return { services: defaultServices };
  }
}
