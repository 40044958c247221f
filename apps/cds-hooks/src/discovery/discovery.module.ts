import { Module } from '@nestjs/common';
import { CDS_HOOKS_CONFIG, type CdsHooksConfig } from '../cds-hooks.config';
import { DiscoveryController } from './discovery.controller';
import { DEFAULT_CATALOG_FILE, ServiceCatalog } from './service-catalog';

/** The service catalog and `GET /cds-services`. */
@Module({
  controllers: [DiscoveryController],
  providers: [
    {
      provide: ServiceCatalog,
      // Read at boot, so a bad catalog stops start-up instead of failing a hook call.
      useFactory: (c: CdsHooksConfig) => ServiceCatalog.fromFile(c.CDS_SERVICES_FILE ?? DEFAULT_CATALOG_FILE),
      inject: [CDS_HOOKS_CONFIG],
    },
  ],
  exports: [ServiceCatalog],
})
export class DiscoveryModule {}
