import { Global, Module, type DynamicModule } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AuditWriter } from '@app/audit';
import { JwksCache, type JwksCacheOptions } from './jwks-cache.service';
import { RefusalRecorder } from './refusal-recorder.service';
import { PgReplayGuard } from './pg-replay-guard.service';
import { STAFF_TOKEN_VERIFIER, StaffAuthGuard } from './staff-auth.guard';
import { StaffTokenVerifier, type StaffAuthOptions } from './staff-token-verifier.service';

export interface AuthModuleOptions {
  readonly jwks: JwksCacheOptions;
  /** Staff OIDC; null leaves the staff routes closed (StaffAuthGuard refuses every call). */
  readonly staff: StaffAuthOptions | null;
}

/**
 * Token verification shared by every feature module of the process: one JWKS cache, one replay table, one staff
 * verifier, one place where refusals are audited. Global because guards are instantiated in each controller's module.
 */
@Global()
@Module({})
export class AuthModule {
  static forRoot(opts: AuthModuleOptions): DynamicModule {
    return {
      module: AuthModule,
      providers: [
        { provide: JwksCache, useFactory: () => new JwksCache(opts.jwks) },
        { provide: PgReplayGuard, useFactory: (ds: DataSource) => new PgReplayGuard(ds), inject: [DataSource] },
        {
          provide: STAFF_TOKEN_VERIFIER,
          useFactory: (keys: JwksCache) => (opts.staff ? new StaffTokenVerifier(opts.staff, keys) : null),
          inject: [JwksCache],
        },
        { provide: RefusalRecorder, useFactory: (a: AuditWriter) => new RefusalRecorder(a), inject: [AuditWriter] },
        StaffAuthGuard,
      ],
      exports: [JwksCache, PgReplayGuard, STAFF_TOKEN_VERIFIER, RefusalRecorder, StaffAuthGuard],
    };
  }
}
