import { AuditChainVerifier, type ChainVerification as Result } from '@app/audit';
import type { AuditChainRepository } from '@app/database';
import type { CheckpointSetup } from './checkpoint-keys';

/** One chain walk at a time per gateway: concurrent requests share the walk in progress. */
export class SharedChainVerifier {
  private running: Promise<Result> | undefined;
  private readonly verifier: AuditChainVerifier;

  constructor(repo: AuditChainRepository, checkpoints: CheckpointSetup, retainMonths: number) {
    this.verifier = new AuditChainVerifier(repo, {
      publicKeys: checkpoints.publicKeys,
      retainMonths,
      ...(checkpoints.sink ? { sink: checkpoints.sink } : {}),
    });
  }

  run(): Promise<Result> {
    this.running ??= this.verifier.verify().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }
}
