import { Module } from '@nestjs/common';
import { AuditWriter } from '@app/audit';
import { BackendForwarder } from '../backends/backend-forwarder';
import { BackendPool } from '../backends/backend-pool.service';
import { BackendsModule } from '../backends/backends.module';
import { INFERENCE_PROXY_CONFIG, type InferenceProxyConfig } from '../inference-proxy.config';
import { FacadeAuthGuard } from './facade-auth.guard';
import { FacadeGovernance } from './facade-governance';
import { facadePolicyOf } from './facade-policy';
import { FacadeRelay } from './facade-relay.service';
import { OpenAiFacadeController } from './openai-facade.controller';

/** The OpenAI-compatible facade over the same backend pool, for internal callers. */
@Module({
  imports: [BackendsModule],
  controllers: [OpenAiFacadeController],
  providers: [
    FacadeAuthGuard,
    {
      provide: FacadeRelay,
      useFactory: (c: InferenceProxyConfig, pool: BackendPool, audit: AuditWriter) =>
        new FacadeRelay(
          new BackendForwarder(pool),
          audit,
          c.INFERENCE_MODEL,
          pool.kinds,
          new FacadeGovernance(facadePolicyOf(c)),
        ),
      inject: [INFERENCE_PROXY_CONFIG, BackendPool, AuditWriter],
    },
  ],
})
export class FacadeModule {}
