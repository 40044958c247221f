import { Module, type DynamicModule, type Type } from '@nestjs/common';

/**
 * The repositories a feature module uses, over the app's one DataSource (DatabaseModule). Each repository owns
 * its table group's SQL and transient-retry; services and controllers see only repository methods.
 */
@Module({})
export class DataAccessModule {
  static forFeature(repositories: ReadonlyArray<Type>): DynamicModule {
    return { module: DataAccessModule, providers: [...repositories], exports: [...repositories] };
  }
}
