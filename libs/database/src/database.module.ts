import {
  Global,
  Inject,
  Injectable,
  Logger,
  Module,
  type DynamicModule,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { DataSource } from 'typeorm';
import { assertSchemaCurrent, createDataSource, type DatabaseOptions } from './data-source';
import { checkAutovacuum } from './health/autovacuum-check';
import { DatabaseHealthController } from './health/database-health.controller';

/**
 * Closes the pool last: onApplicationShutdown runs after every module's onModuleDestroy (stop consuming) and
 * beforeApplicationShutdown (drain writers), and this module is global, so it is the last in that phase too.
 */
@Injectable()
class DatabaseCloser implements OnApplicationShutdown {
  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  async onApplicationShutdown(): Promise<void> {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}

/** One connection pool per app, checked against the migrations before anything else starts; health probes. */
@Global()
@Module({})
export class DatabaseModule {
  static forRoot(opts: DatabaseOptions): DynamicModule {
    return {
      module: DatabaseModule,
      controllers: [DatabaseHealthController],
      providers: [
        {
          provide: DataSource,
          useFactory: async () => {
            const dataSource = createDataSource(opts);
            await dataSource.initialize();
            try {
              await assertSchemaCurrent(dataSource);
            } catch (e) {
              await dataSource.destroy();
              throw e;
            }
            // Advisory: a failed check must not stop the app, only go unreported.
            await checkAutovacuum(
              (sql) => dataSource.query<Array<Record<string, unknown>>>(sql),
              new Logger('Database'),
            ).catch(() => undefined);
            return dataSource;
          },
        },
        DatabaseCloser,
      ],
      exports: [DataSource],
    };
  }
}
