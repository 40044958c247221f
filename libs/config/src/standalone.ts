import { ConfigError } from './config-error';

/**
 * Settings an app cannot run on its own without (the local stack provides embedded ones). Returns them
 * narrowed to defined, or throws a ConfigError naming every missing one.
 */
export function requireStandalone<T extends Record<string, unknown>>(
  app: string,
  values: T,
): { [K in keyof T]-?: NonNullable<T[K]> } {
  const missing = Object.keys(values).filter((k) => values[k] === undefined);
  if (missing.length > 0) {
    throw new ConfigError(
      app,
      missing.map((variable) => ({
        variable,
        message: 'required when the app runs on its own (`npm start` runs the embedded stack)',
      })),
    );
  }
  return values as { [K in keyof T]-?: NonNullable<T[K]> };
}

/** Runs an app's entry point: stops it cleanly on SIGTERM / SIGINT, exits 1 with the reason when it cannot start. */
export function runStandalone(start: () => Promise<() => Promise<void>>): void {
  start().then(
    (stop) => {
      const onSignal = () =>
        void stop().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      process.once('SIGTERM', onSignal);
      process.once('SIGINT', onSignal);
    },
    (e: unknown) => {
      process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(1);
    },
  );
}
