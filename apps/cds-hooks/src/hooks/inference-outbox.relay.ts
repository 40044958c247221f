import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { lastValueFrom } from 'rxjs';
import { auditEventId, AuditWriter } from '@app/audit';
import { InferenceOutboxRepository, InferenceRepository, type DueMessage } from '@app/database';
import { inboundInferenceSchema, InferenceClient, INFERENCE_REQUEST_PATTERN } from '@app/messaging';
import { backoffMs, PeriodicTask } from '@app/timing';
import { CDS_HOOKS_CONFIG, type CdsHooksConfig } from '../cds-hooks.config';

/** Rows taken per run, and how long a taken row is this replica's (a relay that dies only delays it). */
const BATCH = 50;
const LEASE_MS = 30_000;
/** Longest one publish may take before the row is retried later (the producer retries inside it). */
const PUBLISH_TIMEOUT_MS = 10_000;
const RETRY = { baseMs: 500, maxMs: 30_000, jitter: 'full' } as const;

/**
 * Publishes what the hook path stored but could not deliver (issue 18): every committed request is eventually
 * published, or, once its inference deadline passed, recorded expired (a result row and an audit event, the same
 * event id the proxy would use, so whichever side records the request's end, it is recorded once). Publishing is
 * idempotent per request id: the proxy runs a request id once and only re-announces a stored result.
 */
@Injectable()
export class InferenceOutboxRelay implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(InferenceOutboxRelay.name);
  private readonly task: PeriodicTask;

  constructor(
    private readonly outbox: InferenceOutboxRepository,
    private readonly inferences: InferenceRepository,
    private readonly client: InferenceClient,
    private readonly audit: AuditWriter,
    @Inject(CDS_HOOKS_CONFIG) config: CdsHooksConfig,
  ) {
    this.task = new PeriodicTask(config.OUTBOX_RELAY_MS, () => this.relay(), {
      name: 'inference outbox relay',
      immediate: false,
    });
  }

  onApplicationBootstrap(): void {
    this.task.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.task.stop();
  }

  /** One pass over the due rows (also called by tests). */
  async relay(): Promise<void> {
    const due = await this.outbox.claimDue(BATCH, LEASE_MS);
    await Promise.all(due.map((m) => this.deliver(m)));
  }

  private async deliver(m: DueMessage): Promise<void> {
    const parsed = inboundInferenceSchema.safeParse(m.message);
    if (!parsed.success) {
      this.logger.error(`outbox message of ${m.requestId} does not parse; recorded expired`);
      return this.expire(m, 'outbox_message_invalid', undefined);
    }
    if (m.deadlineAt.getTime() <= Date.now()) return this.expire(m, 'never_published', parsed.data.request);
    try {
      await withTimeout(
        lastValueFrom(this.client.emit(INFERENCE_REQUEST_PATTERN, parsed.data), { defaultValue: undefined }),
        PUBLISH_TIMEOUT_MS,
      );
      await this.outbox.remove(m.requestId);
      this.logger.log(`published inference request ${m.requestId} from the outbox (attempt ${m.attempts})`);
    } catch (e) {
      const wait = backoffMs(m.attempts, RETRY);
      this.logger.warn(
        `outbox publish of ${m.requestId} failed (attempt ${m.attempts}, retry in ${wait} ms): ${e instanceof Error ? e.name : 'error'}`,
      );
      await this.outbox.retryAt(m.requestId, new Date(Date.now() + wait));
    }
  }

  private async expire(
    m: DueMessage,
    errorCode: string,
    request: { hookInstance: string; model: string; templateVersion: string; promptHash: string } | undefined,
  ): Promise<void> {
    // Audit first, like the proxy's result writer: a stored result always has its event.
    await this.audit.record({
      eventId: auditEventId('inference.completed', m.requestId),
      action: 'inference.completed',
      outcome: 'failure',
      service: 'cds-hooks',
      requestId: m.requestId,
      hookInstance: request?.hookInstance ?? null,
      detail: { resultOutcome: 'expired', errorCode, publishAttempts: m.attempts },
    });
    await this.inferences.storeResults([
      {
        requestId: m.requestId,
        outcome: 'expired',
        status: 'expired',
        backend: null,
        outputText: null,
        errorCode,
        tokensIn: null,
        tokensOut: null,
        latencyMs: 0,
        completedAt: new Date(),
        hookInstance: request?.hookInstance ?? null,
        model: request?.model ?? null,
        templateVersion: request?.templateVersion ?? null,
        promptHash: request?.promptHash ?? null,
        attempts: 0,
        servedFrom: null,
      },
    ]);
    await this.outbox.remove(m.requestId);
    this.logger.warn(`inference request ${m.requestId} expired before a broker took it (${errorCode})`);
  }
}

async function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('publish timed out')), ms);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}
