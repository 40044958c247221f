import type { BackendTarget } from '@app/config';
import type { InferenceRequestV1 } from '@app/contracts';
import { inSpan, SpanKind, type Attributes, type Span } from '@app/observability';
import type { Completion } from './answer-reader';

/**
 * One model call as a GenAI client span (OpenTelemetry GenAI semantic conventions): operation, provider (the
 * engine kind), model, request limits, token counts and finish reason. Never the prompt or the completion.
 */
export function inGenAiSpan(
  target: BackendTarget,
  req: InferenceRequestV1,
  call: (span: Span) => Promise<Completion>,
): Promise<Completion> {
  const operation = req.api === 'chat' ? 'chat' : 'text_completion';
  const server = new URL(target.baseUrl);
  const attributes: Attributes = {
    'gen_ai.operation.name': operation,
    'gen_ai.provider.name': target.kind,
    'gen_ai.request.model': req.model,
    'gen_ai.request.max_tokens': req.maxTokens,
    'gen_ai.request.temperature': req.temperature,
    'server.address': server.hostname,
    ...(server.port ? { 'server.port': Number(server.port) } : {}),
    'meditron.backend.id': target.id,
  };
  return inSpan(
    'meditron-inference-proxy',
    `${operation} ${req.model}`,
    { kind: SpanKind.CLIENT, attributes },
    async (span) => {
      const completion = await call(span);
      if (completion.tokensIn !== null) span.setAttribute('gen_ai.usage.input_tokens', completion.tokensIn);
      if (completion.tokensOut !== null) span.setAttribute('gen_ai.usage.output_tokens', completion.tokensOut);
      if (completion.finishReason) span.setAttribute('gen_ai.response.finish_reasons', [completion.finishReason]);
      return completion;
    },
  );
}
