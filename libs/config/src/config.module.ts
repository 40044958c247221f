import { Global, Module, type DynamicModule } from '@nestjs/common';

/**
 * An app's validated environment under its own token, visible to every feature module. The environment is
 * parsed once before the app is created (a bad value stops start-up naming the variable), so this only holds it.
 */
@Global()
@Module({})
export class ConfigModule {
  static forRoot<T extends object>(token: symbol, config: T): DynamicModule {
    return { module: ConfigModule, providers: [{ provide: token, useValue: config }], exports: [token] };
  }
}
