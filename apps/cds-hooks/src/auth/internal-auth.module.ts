import { Global, Module } from '@nestjs/common';
import { InternalTokenVerifier } from '@app/auth';
import { CDS_HOOKS_CONFIG, type CdsHooksConfig } from '../cds-hooks.config';
import { InternalAuthGuard } from './internal-auth.guard';

/** The gateway's per-call token check, for every feature module's controllers. One verifier: one jti memory. */
@Global()
@Module({
  providers: [
    {
      provide: InternalTokenVerifier,
      useFactory: (c: CdsHooksConfig) => new InternalTokenVerifier(c.INTERNAL_TOKEN_SECRET),
      inject: [CDS_HOOKS_CONFIG],
    },
    InternalAuthGuard,
  ],
  exports: [InternalTokenVerifier, InternalAuthGuard],
})
export class InternalAuthModule {}
