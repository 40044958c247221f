import { Injectable } from '@nestjs/common';
import { AuditChainRepository, CardFeedbackRepository } from '@app/database';
import { parseFindings } from '@app/prompts';
import { CardProvenanceReader } from '../provenance/card-provenance.service';
import { checkAuditRows } from './audit-row-check';
import type { CardExplanation, ExplainedFinding } from './card-explanation';

type Json = Record<string, unknown>;

/** Builds a card's full explanation (patient included: the controller hides it from roles not allowed) from its provenance (CardProvenanceReader), its feedback and its rows' chain status. */
@Injectable()
export class CardExplainer {
  constructor(
    private readonly provenance: CardProvenanceReader,
    private readonly feedbackRows: CardFeedbackRepository,
    private readonly chainRows: AuditChainRepository,
  ) {}

  async explain(cardUuid: string): Promise<CardExplanation | null> {
    const p = await this.provenance.read(cardUuid);
    if (!p) return null;
    const card = p.card;
    const call = p.hookInvocation;
    const request = p.inferenceRequest ?? {};
    const result = p.inferenceResult ?? {};
    const manifest = obj(request['contextManifest']);
    const answer = obj(call['answerDetail']);
    const [feedback, auditRows] = await Promise.all([
      this.feedbackRows.feedbackOn(cardUuid),
      this.chainRows.rowsInPlace(p.auditEvents.map((e) => e.id)),
    ]);
    const chain = checkAuditRows(auditRows);
    const asSent = card['content'] ?? null;
    return {
      card: {
        uuid: str(card['uuid']) ?? cardUuid,
        serviceId: str(card['serviceId']) ?? '',
        createdAt: str(card['createdAt']) ?? '',
        indicator: str(card['indicator']),
        asSent,
      },
      call: {
        hook: str(call['hook']) ?? '',
        hookInstance: str(call['hookInstance']) ?? '',
        clientId: str(call['clientId']),
        requestId: str(call['requestId']) ?? '',
        status: str(call['status']) ?? '',
        receivedAt: str(call['receivedAt']) ?? '',
        answeredAt: str(call['answeredAt']),
        patientRef: str(call['patientRef']),
        patientHidden: false,
      },
      prompt: {
        model: str(request['model']),
        templateVersion: str(request['templateVersion']),
        promptHash: str(request['promptHash']),
        promptTokens: numOrNull(manifest['promptTokens']),
        budgetTokens: numOrNull(manifest['budgetTokens']),
      },
      findings: findingsOf(str(result['outputText']), manifest, answer, obj(asSent)),
      leftOut: p.contextLeftOut,
      run: {
        backend: str(result['backend']),
        outcome: str(result['outcome']),
        servedFrom: str(result['servedFrom']),
        attempts: numOrNull(result['attempts']),
        latencyMs: numOrNull(result['latencyMs']),
        tokensIn: numOrNull(result['tokensIn']),
        tokensOut: numOrNull(result['tokensOut']),
        errorCode: str(result['errorCode']),
      },
      rawOutput: str(result['outputText']),
      answer: p.dropped,
      feedback: feedback.map((f) => ({
        outcome: String(f.outcome),
        outcomeAt: f.outcomeAt instanceof Date ? f.outcomeAt.toISOString() : String(f.outcomeAt),
        overrideReason: f.overrideReason ?? null,
        clientId: str(f.clientId),
      })),
      auditEvents: p.auditEvents.map((e) => ({ ...e, chain: chain.get(e.id) ?? 'unknown' })),
    };
  }
}

function findingsOf(output: string | null, manifest: Json, answer: Json, asSent: Json): ExplainedFinding[] {
  if (!output) return [];
  const parsed = parseFindings(output);
  if (!parsed.ok) return [];
  const facts = obj(manifest['facts']);
  const references = obj(manifest['references']);
  const dropped = new Map<number, string>();
  if (Array.isArray(answer['dropped'])) {
    for (const d of answer['dropped'] as unknown[]) {
      const o = obj(d);
      if (typeof o['index'] === 'number' && typeof o['reason'] === 'string') dropped.set(o['index'], o['reason']);
    }
  }
  return parsed.findings.findings.map((f, index) => ({
    index,
    summary: f.summary,
    indicator: f.indicator,
    isThisCard: !dropped.has(index) && asSent['summary'] === f.summary,
    droppedBecause: dropped.get(index) ?? null,
    citations: (f.evidence ?? []).map((handle) => ({
      handle,
      fact: str(facts[handle]),
      reference: str(references[handle]),
    })),
  }));
}

function obj(v: unknown): Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : {};
}

function str(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}

function numOrNull(v: unknown): number | null {
  return typeof v === 'number' ? v : null;
}
