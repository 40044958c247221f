import type { Findings } from '../findings';

export type Finding = Findings['findings'][number];

export type DropReason = 'no_citation' | 'unknown_reference';

export interface Grounded {
  readonly kept: Finding[];
  readonly dropped: Array<{ index: number; reason: DropReason }>;
  /** Findings whose `critical` was lowered to `warning` because the service's policy does not allow it. */
  readonly downgraded: number;
}

/**
 * A finding must rest on facts the model was shown: every cited handle must be one we sent, and there must be
 * at least one. The model alone cannot raise `critical` unless the service's policy allows it.
 */
export function groundFindings(
  findings: Findings,
  references: Readonly<Record<string, string>>,
  policy: { allowCritical: boolean },
): Grounded {
  const kept: Finding[] = [];
  const dropped: Grounded['dropped'] = [];
  let downgraded = 0;
  findings.findings.forEach((f, index) => {
    const evidence = f.evidence ?? [];
    if (evidence.length === 0) return dropped.push({ index, reason: 'no_citation' });
    if (evidence.some((h) => !(h in references))) return dropped.push({ index, reason: 'unknown_reference' });
    if (f.indicator === 'critical' && !policy.allowCritical) {
      downgraded += 1;
      kept.push({ ...f, indicator: 'warning' });
    } else kept.push(f);
    return undefined;
  });
  return { kept, dropped, downgraded };
}
