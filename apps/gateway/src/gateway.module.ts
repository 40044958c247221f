import { Module, type DynamicModule } from '@nestjs/common';
import { loggerModule } from '@app/observability';
import { CdsHooksUpstream } from './forwarding/cds-hooks-upstream';
import { CdsServicesController } from './forwarding/cds-services.controller';
import { GATEWAY_CONFIG, type GatewayConfig } from './gateway.config';
import { GatewayHealthController } from './health/health.controller';

@Module({})
export class GatewayModule {
  static forRoot(config: GatewayConfig): DynamicModule {
    return {
      module: GatewayModule,
      imports: [loggerModule('gateway', config.LOG_LEVEL)],
      controllers: [CdsServicesController, GatewayHealthController],
      providers: [{ provide: GATEWAY_CONFIG, useValue: config }, CdsHooksUpstream],
    };
  }
}
