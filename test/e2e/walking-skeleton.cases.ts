import { randomUUID } from 'node:crypto';
import type { LocalStack } from '../../tools/local-stack/local-stack';
import { cdsResponseProblems } from '../support/cds-conformance';
import { stackToken } from '../support/ehr-tokens';
import { lastPrompt } from '../support/model-requests';
import { queryRows } from '../support/postgres';
import { prefetchFromSynthea } from '../support/synthea';

const DIRK = 'Dirk_Kuhlman_1e503533-b8c2-42cb-a6d5-bbd7d70d07ad.json';
const SERVICE = 'meditron-patient-view';

export function patientViewRequest(file = DIRK): {
  body: Record<string, unknown>;
  hookInstance: string;
  patientId: string;
} {
  const { patientId, prefetch } = prefetchFromSynthea(file);
  const hookInstance = randomUUID();
  return {
    hookInstance,
    patientId,
    body: { hookInstance, hook: 'patient-view', context: { userId: 'Practitioner/example', patientId }, prefetch },
  };
}

export async function postHook(
  stack: LocalStack,
  body: unknown,
  service = SERVICE,
): Promise<{ status: number; json: Record<string, unknown>; headers: Headers }> {
  const res = await fetch(`${stack.gatewayUrl}/cds-services/${service}`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${await stackToken(stack, `/cds-services/${service}`)}`,
      'content-type': 'application/json',
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown>, headers: res.headers };
}

/**
 * The walking skeleton, whichever transport and database carry it: a patient-view hook at the gateway
 * comes back as a spec-valid card built from the model's answer, and every step is in Postgres.
 */
export function walkingSkeletonCases(getStack: () => LocalStack): void {
  it('answers a patient-view hook with a card built from the model answer, and records every step', async () => {
    const stack = getStack();
    const double = stack.modelDouble!;
    const marker = `Anticoagulation review ${randomUUID().slice(0, 8)}`;
    double.enqueueResponse(
      JSON.stringify({
        findings: [{ summary: marker, indicator: 'warning', detail: 'Check **renal function**.', evidence: ['P1'] }],
      }),
    );
    const { body, hookInstance, patientId } = patientViewRequest();

    const res = await postHook(stack, body);

    expect(res.status).toBe(200);
    expect(cdsResponseProblems(res.json)).toEqual([]);
    const cards = res.json.cards as Array<Record<string, unknown>>;
    expect(cards).toHaveLength(1);
    expect(cards[0]).toMatchObject({
      summary: marker,
      indicator: 'warning',
      detail: expect.stringContaining('Check **renal function**.'),
    });
    expect((cards[0]!.source as { label: string }).label).toMatch(/AI-generated/);
    const requestId = res.headers.get('x-request-id');
    expect(requestId).toBeTruthy();

    // The model saw a de-identified completion prompt and was asked for structured output.
    const sent = double
      .requests()
      .filter((r) => r.path === '/v1/completions')
      .at(-1)!;
    const { prompt, stop } = sent.body as { prompt: string; stop?: string[] };
    // Meditron-70B's own template (FastChat, as its authors deploy it) with its stop strings.
    expect(prompt).toMatch(/\n### User: [\s\S]*\n### Assistant:$/);
    expect(prompt).not.toContain('<|im_start|>');
    expect(stop).toEqual(['</s>', '###', 'Assistant:', 'User:']);
    expect(prompt).toMatch(/Diabetes|diabetes/);
    for (const leak of ['Kuhlman', 'Dirk', patientId, '1971-12-07']) expect(prompt).not.toContain(leak);
    expect(sent.responseFormat).toBe('openai_json_schema');

    const db = stack.databaseUrl;
    const invocations = await queryRows<{
      id: string;
      status: string;
      cards_returned: number;
      request_id: string;
      patient_ref: string;
    }>(
      db,
      `SELECT id, status, cards_returned, request_id, patient_ref FROM hook_invocations WHERE hook_instance = $1`,
      [hookInstance],
    );
    expect(invocations).toEqual([
      expect.objectContaining({
        status: 'answered',
        cards_returned: 1,
        request_id: requestId,
        patient_ref: `Patient/${patientId}`,
      }),
    ]);
    const inferences = await queryRows<{
      request_id: string;
      status: string;
      prompt_hash: string;
      template_version: string;
    }>(
      db,
      `SELECT request_id, status, prompt_hash, template_version FROM inference_requests WHERE hook_invocation_id = $1`,
      [invocations[0]!.id],
    );
    expect(inferences).toEqual([
      expect.objectContaining({ status: 'completed', template_version: 'patient-view@2/fastchat-meditron@1' }),
    ]);
    expect(inferences[0]!.prompt_hash).toMatch(/^[0-9a-f]{64}$/);
    const results = await queryRows<{ outcome: string; output_text: string; backend: string }>(
      db,
      `SELECT outcome, output_text, backend FROM inference_results WHERE request_id = $1`,
      [inferences[0]!.request_id],
    );
    expect(results).toEqual([expect.objectContaining({ outcome: 'ok', backend: expect.stringMatching(/^vllm@/) })]);
    expect(results[0]!.output_text).toContain(marker);
    const audit = await queryRows<{ action: string; outcome: string; service: string }>(
      db,
      `SELECT action, outcome, service FROM audit_events WHERE hook_instance = $1 ORDER BY id`,
      [hookInstance],
    );
    // In chain order hook.answered comes last: after its call's hook.invoked, and after inference.completed (stored
    // in the statement that stored the result it was built from). A quick answer's hook.invoked is written in
    // hook.answered's INSERT, so it may follow inference.completed (the proxy's own commit).
    expect(audit).toHaveLength(3);
    expect(audit.slice(0, 2)).toEqual(
      expect.arrayContaining([
        { action: 'hook.invoked', outcome: 'success', service: 'cds-hooks' },
        { action: 'inference.completed', outcome: 'success', service: 'inference-proxy' },
      ]),
    );
    expect(audit[2]).toEqual({ action: 'hook.answered', outcome: 'success', service: 'cds-hooks' });
  });

  it('answers malformed hook input with a 400 OperationOutcome and writes only the refusal audit event', async () => {
    const stack = getStack();
    const before = await queryRows<{ n: string }>(
      stack.databaseUrl,
      `SELECT count(*)::text AS n FROM hook_invocations`,
    );
    const requestId = `e2e-bad-${randomUUID()}`;
    const res = await fetch(`${stack.gatewayUrl}/cds-services/${SERVICE}`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${await stackToken(stack, `/cds-services/${SERVICE}`)}`,
        'content-type': 'application/json',
        'x-request-id': requestId,
      },
      body: JSON.stringify({
        hook: 'patient-view',
        hookInstance: 'not-a-uuid',
        context: { patientId: 'secret-patient-42' },
      }),
    });
    expect(res.status).toBe(400);
    const outcome = (await res.json()) as {
      resourceType: string;
      issue: Array<{ severity: string; code: string; diagnostics: string }>;
    };
    expect(outcome.resourceType).toBe('OperationOutcome');
    expect(outcome.issue.map((i) => i.diagnostics).join(' ')).toContain('hookInstance');
    expect(JSON.stringify(outcome)).not.toContain('secret-patient-42');
    const after = await queryRows<{ n: string }>(stack.databaseUrl, `SELECT count(*)::text AS n FROM hook_invocations`);
    expect(after[0]!.n).toBe(before[0]!.n);
    const audit = await queryRows<{ action: string; outcome: string }>(
      stack.databaseUrl,
      `SELECT action, outcome FROM audit_events WHERE request_id = $1`,
      [requestId],
    );
    expect(audit).toEqual([{ action: 'hook.refused', outcome: 'refused' }]);
  });

  it('repairs malformed model output once, and answers with no cards, not an error, when the repair fails too', async () => {
    const stack = getStack();
    const double = stack.modelDouble!;
    // Other patients than the first case: a fresh result for the same prompt would be reused without the model.
    double.injectFault({ kind: 'malformed', count: 1 });
    const repaired = patientViewRequest('Daisey_Johns_e916a083-8ee6-4df8-acbe-b711fa791253.json');
    const first = await postHook(stack, repaired.body);
    expect(first.status).toBe(200);
    expect(cdsResponseProblems(first.json)).toEqual([]);
    expect((first.json.cards as unknown[]).length).toBe(1);
    const repairPrompt = lastPrompt(double);
    expect(repairPrompt).toContain('Your previous answer could not be used');

    double.injectFault({ kind: 'malformed', count: 2 });
    const failed = patientViewRequest('Christin_Stiedemann_fc6aaaa5-0461-420d-b96c-ebeacc303b51.json');
    const res = await postHook(stack, failed.body);
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ cards: [] });
    const rows = await queryRows<{ status: string; cards_returned: number; answer_detail: Record<string, unknown> }>(
      stack.databaseUrl,
      `SELECT status, cards_returned, answer_detail FROM hook_invocations WHERE hook_instance = $1 OR hook_instance = $2 ORDER BY received_at`,
      [repaired.hookInstance, failed.hookInstance],
    );
    expect(rows).toEqual([
      {
        status: 'answered',
        cards_returned: 1,
        answer_detail: expect.objectContaining({ repair: 'succeeded', firstOutput: 'not_json' }),
      },
      {
        status: 'answered_empty',
        cards_returned: 0,
        answer_detail: expect.objectContaining({ repair: 'failed:not_json', firstOutput: 'not_json' }),
      },
    ]);
  });
}
