import {
  context,
  INVALID_SPAN_CONTEXT,
  propagation,
  ProxyTracerProvider,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import { childTraceparent } from '../trace-context';

export { SpanKind, type Attributes, type Span } from '@opentelemetry/api';

/**
 * Manual spans for the steps no instrumentation sees (auth, prefetch, prompt, dispatch, queue wait, each backend
 * attempt). They go through the OpenTelemetry API only: with no SDK started (OTEL_EXPORTER_OTLP_ENDPOINT unset)
 * every call is the API's no-op and nothing is recorded or sent.
 *
 * Attributes are ids of our own making (request ids, service ids, backend ids), counts and codes; never patient
 * data, prompts, completions or tokens.
 *
 * With no tracer provider registered, a step builds no span and no context at all (the API's no-op would still make
 * a tracer, a span and a copy of the context per step, several per hook): the work runs with a span that records
 * nothing. Nothing observable changes, since without an SDK no span is exported and nothing is propagated.
 */
export interface SpanOptions {
  readonly kind?: SpanKind;
  readonly attributes?: Attributes;
  /** Parent to use instead of the active context (a message's `traceparent`). */
  readonly parent?: Context;
}

/** The span handed to work when tracing is off: records nothing, ends nothing. */
const NOT_RECORDED: Span = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/** The registered provider's tracer, or undefined when none is registered (tracing off). */
function tracerOf(name: string): Tracer | undefined {
  const provider = trace.getTracerProvider();
  return provider instanceof ProxyTracerProvider ? provider.getDelegateTracer(name) : provider.getTracer(name);
}

/** Runs `work` inside a new span of `tracer` (the app's name); the span ends when it settles, errors recorded. */
export async function inSpan<T>(
  tracer: string,
  name: string,
  options: SpanOptions,
  work: (span: Span) => Promise<T>,
): Promise<T> {
  const t = tracerOf(tracer);
  if (!t) return work(NOT_RECORDED);
  const parent = options.parent ?? context.active();
  const span = t.startSpan(
    name,
    { kind: options.kind ?? SpanKind.INTERNAL, attributes: options.attributes ?? {} },
    parent,
  );
  try {
    return await context.with(trace.setSpan(parent, span), () => work(span));
  } catch (e) {
    failSpan(span, errorType(e));
    throw e;
  } finally {
    span.end();
  }
}

/**
 * A span around synchronous work, ended before this returns: for steps whose callers rely on nothing else running
 * in between (the backend choice and the call that books the backend happen in one tick).
 */
export function inSyncSpan<T>(tracer: string, name: string, options: SpanOptions, work: (span: Span) => T): T {
  const t = tracerOf(tracer);
  if (!t) return work(NOT_RECORDED);
  const parent = options.parent ?? context.active();
  const span = t.startSpan(
    name,
    { kind: options.kind ?? SpanKind.INTERNAL, attributes: options.attributes ?? {} },
    parent,
  );
  try {
    return context.with(trace.setSpan(parent, span), () => work(span));
  } catch (e) {
    failSpan(span, errorType(e));
    throw e;
  } finally {
    span.end();
  }
}

/** An error's own code (`BackendError.code`, `FhirFetchError.code`) or class name: never its message, which can quote input. */
export function errorType(e: unknown): string {
  if (!(e instanceof Error)) return 'unknown';
  const code: unknown = (e as { code?: unknown }).code;
  return typeof code === 'string' && /^[A-Za-z0-9_.-]{1,64}$/.test(code) ? code : e.name;
}

/** Marks a span failed with a code of ours (`error.type`), for outcomes that are not exceptions. */
export function failSpan(span: Span, errorType: string): void {
  span.setStatus({ code: SpanStatusCode.ERROR });
  span.setAttribute('error.type', errorType);
}

/**
 * The `traceparent` to send downstream: the active span's when tracing is on (so the next service's spans are its
 * children), otherwise a fresh span id in the caller's trace (`childTraceparent`), as without OpenTelemetry.
 */
export function outgoingTraceparent(incoming: string | undefined): string {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier['traceparent'] ?? childTraceparent(incoming);
}

/** `{ traceparent }` of the active span when tracing is on; empty otherwise (nothing to forward). */
export function activeTraceHeaders(): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier['traceparent'] === undefined ? {} : { traceparent: carrier['traceparent'] };
}

/** The context a message's `traceparent` header names (the root context when it has none). */
export function contextFromTraceparent(traceparent: string | undefined): Context {
  return traceparent === undefined ? ROOT_CONTEXT : propagation.extract(ROOT_CONTEXT, { traceparent });
}
