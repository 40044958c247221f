import { Global, Module, type DynamicModule } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ClientRegistryCache, type ClientRegistryCacheOptions } from './client-registry-cache.service';

/** The EHR client registry, one cache per process, for every feature module that needs it. */
@Global()
@Module({})
export class ClientsModule {
  static forRoot(opts: ClientRegistryCacheOptions): DynamicModule {
    return {
      module: ClientsModule,
      providers: [
        {
          provide: ClientRegistryCache,
          useFactory: (ds: DataSource) => new ClientRegistryCache(ds, opts),
          inject: [DataSource],
        },
      ],
      exports: [ClientRegistryCache],
    };
  }
}
