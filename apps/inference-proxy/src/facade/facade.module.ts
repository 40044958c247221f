import { Module } from '@nestjs/common';
import { BackendForwarder } from '../backends/backend-forwarder';
import { BackendPool } from '../backends/backend-pool';
import { BackendsModule } from '../backends/backends.module';
import { ProxyAudit } from '../inference/proxy-audit';
import { INFERENCE_PROXY_CONFIG, type InferenceProxyConfig } from '../inference-proxy.config';
import { FacadeAuthGuard } from './facade-auth.guard';
import { FacadeGovernance } from './facade-governance';
import { facadePolicyOf } from './facade-policy';
import { FacadeRelay } from './facade-relay';
import { OpenAiFacadeController } from './openai-facade.controller';

/** The OpenAI-compatible facade over the same backend pool, for internal callers. */
@Module({
  imports: [BackendsModule],
  controllers: [OpenAiFacadeController],
  providers: [
    ProxyAudit,
    FacadeAuthGuard,
    {
      provide: FacadeRelay,
      useFactory: (c: InferenceProxyConfig, pool: BackendPool, audit: ProxyAudit) =>
        new FacadeRelay(
          new BackendForwarder(pool),
          audit,
          c.INFERENCE_MODEL,
          pool.kinds,
          new FacadeGovernance(facadePolicyOf(c)),
        ),
      inject: [INFERENCE_PROXY_CONFIG, BackendPool, ProxyAudit],
    },
  ],
})
export class FacadeModule {}
