import { AuditChainVerifier, type ChainVerification as Result } from '@app/audit';
import type { AuditChainRepository } from '@app/database';
import type { ChainVerificationMetrics } from './chain-verification-metrics';
import type { CheckpointSetup } from './checkpoint-keys';

/** One chain walk at a time per gateway: concurrent requests share the walk in progress. Every walk is counted. */
export class SharedChainVerifier {
  private running: Promise<Result> | undefined;
  private readonly verifier: AuditChainVerifier;

  constructor(
    repo: AuditChainRepository,
    checkpoints: CheckpointSetup,
    retainMonths: number,
    private readonly metrics: ChainVerificationMetrics,
  ) {
    this.verifier = new AuditChainVerifier(repo, {
      publicKeys: checkpoints.publicKeys,
      retainMonths,
      ...(checkpoints.sink ? { sink: checkpoints.sink } : {}),
    });
  }

  run(): Promise<Result> {
    this.running ??= this.verifier
      .verify()
      .then(
        (result) => {
          this.metrics.verified(result);
          return result;
        },
        (e: unknown) => {
          this.metrics.failed();
          throw e;
        },
      )
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }
}
