import type { CdsServiceDefinition } from '../discovery/service-catalog';
import { HookRefusalException } from '../errors/hook-refusal.exception';
import { describeIssues, type HookRequest } from './hook-request.schema';
import { hookContextSchemas, type HookContext } from './hook-contexts';

/** A call the service can take: the hook it answers, and that hook's context parsed into its type. */
export function admitHook(service: CdsServiceDefinition, hook: HookRequest): HookContext {
  if (hook.hook !== service.hook) {
    throw HookRefusalException.invalid('hook.refused', 'wrong_hook', [
      { expression: 'hook', diagnostics: `service ${service.id} answers the ${service.hook} hook` },
    ]);
  }
  const context = hookContextSchemas[service.hook].safeParse(hook.context);
  if (!context.success) {
    throw HookRefusalException.invalid('hook.refused', 'invalid_context', describeIssues(context.error, 'context'));
  }
  return context.data;
}
