import { Module, RequestMethod, type DynamicModule, type MiddlewareConsumer, type NestModule } from '@nestjs/common';
import { ConsoleAuthController } from './console-auth.controller';
import { ConsoleSessionMiddleware } from './console-session.middleware';
import { CONSOLE_SESSION_OPTIONS, type ConsoleSessionOptions } from './console-session.options';
import { ConsoleSessions } from './console-sessions.service';
import { ConsoleSessionStore } from './session-store';
import { StaffOidcClient } from './staff-oidc-client';

/** Console sign-in not configured: the staff API takes bearer tokens only. */
@Module({})
class ConsoleSessionOffModule {}

/** Console sign-in through the organisation's identity provider; absent (bearer tokens only) when not configured. */
@Module({})
export class ConsoleSessionModule implements NestModule {
  static forRoot(opts: ConsoleSessionOptions | null): DynamicModule {
    if (!opts) return { module: ConsoleSessionOffModule };
    return {
      module: ConsoleSessionModule,
      controllers: [ConsoleAuthController],
      providers: [
        { provide: CONSOLE_SESSION_OPTIONS, useValue: opts },
        {
          provide: ConsoleSessions,
          useFactory: () =>
            new ConsoleSessions(new ConsoleSessionStore(opts.maxSessions), new StaffOidcClient(opts.oidc)),
        },
        ConsoleSessionMiddleware,
      ],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    // Only the staff API: EHR calls never ride on a console session.
    consumer
      .apply(ConsoleSessionMiddleware)
      .forRoutes(
        { path: 'compliance/*path', method: RequestMethod.ALL },
        { path: 'admin/*path', method: RequestMethod.ALL },
      );
  }
}
