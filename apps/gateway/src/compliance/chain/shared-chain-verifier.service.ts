import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AuditChainVerifier, type ChainVerification as Result } from '@app/audit';
import { ChainVerificationMetrics } from './chain-verification-metrics';

/** One chain walk at a time per gateway: concurrent requests share the walk in progress. Every walk is counted. */
@Injectable()
export class SharedChainVerifier {
  private running: Promise<Result> | undefined;
  private readonly verifier: AuditChainVerifier;

  constructor(
    ds: DataSource,
    private readonly metrics: ChainVerificationMetrics,
  ) {
    this.verifier = new AuditChainVerifier(ds);
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
