import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AuditChainVerifier, type ChainVerification as Result } from '@app/audit';

/** One chain walk at a time per gateway: concurrent requests share the walk in progress. */
@Injectable()
export class SharedChainVerifier {
  private running: Promise<Result> | undefined;
  private readonly verifier: AuditChainVerifier;

  constructor(ds: DataSource) {
    this.verifier = new AuditChainVerifier(ds);
  }

  run(): Promise<Result> {
    this.running ??= this.verifier.verify().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }
}
