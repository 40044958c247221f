import { buildPrompt, repairPrompt } from '../budget/build-prompt';
import { tokenCounter } from '../budget/token-counter';
import type { ClinicalSummary } from '../summary/clinical-summary';
import { MODEL_PROFILES, allControlStrings } from './model-profiles';
import { fastChatPrompt } from './prompt-templates';
import { FINDINGS_EXAMPLE } from './worked-example';
import { findingsSchema } from '../findings';

const summary = (): ClinicalSummary => ({
  ageYears: 71,
  age: { years: 71, deceased: false },
  sex: 'female',
  sections: {
    orders: [],
    problems: [{ handle: 'P1', text: 'Atrial fibrillation', ref: 'Condition/c1' }],
    history: [],
    medications: [{ handle: 'M1', text: 'warfarin 5 mg daily', ref: 'MedicationRequest/m1' }],
    allergies: [],
    labs: [],
    vitals: [],
    encounters: [],
    procedures: [],
    immunizations: [],
  },
  states: {
    orders: 'answered',
    problems: 'answered',
    history: 'answered',
    medications: 'answered',
    allergies: 'answered',
    labs: 'answered',
    vitals: 'answered',
    encounters: 'answered',
    procedures: 'answered',
    immunizations: 'answered',
  },
  overCap: {},
  leftOut: [],
});

describe('Meditron-70B: the FastChat template of its authors', () => {
  it('writes system, `### User:` and an open `### Assistant:` turn, joined by "\\n### "', () => {
    expect(fastChatPrompt('SYS', 'case')).toBe('SYS\n### User: case\n### Assistant:');
    expect(fastChatPrompt('SYS', 'case', { user: 'ex', assistant: '{"findings":[]}' })).toBe(
      'SYS\n### User: ex\n### Assistant: {"findings":[]}\n### User: case\n### Assistant:',
    );
  });

  it('builds a one-shot prompt with no ChatML, the real case last, stops and a template version', async () => {
    const built = await buildPrompt('patient-view', summary(), MODEL_PROFILES['meditron-70b']);
    const prompt = built.prompt!;
    expect(prompt).not.toMatch(/<\|im_(start|end)\|>/);
    expect(prompt.indexOf(FINDINGS_EXAMPLE.user)).toBeGreaterThan(0);
    expect(prompt.indexOf(FINDINGS_EXAMPLE.user)).toBeLessThan(prompt.lastIndexOf('### User: '));
    expect(prompt.slice(prompt.lastIndexOf('### User: '))).toContain('M1: warfarin 5 mg daily');
    expect(prompt.endsWith('\n### Assistant:')).toBe(true);
    expect(built.stop).toEqual(['</s>', '###', 'Assistant:', 'User:']);
    expect(built.templateVersion).toBe('patient-view@2/fastchat-meditron@1');
    // The example is counted in the budget like every other token of the prompt.
    const counter = await tokenCounter('llama2');
    expect(built.manifest.promptTokens).toBe(counter.count(prompt));
  });

  it('shows an example answer that is valid against the findings schema and cites its own handles', () => {
    const answer = findingsSchema.parse(JSON.parse(FINDINGS_EXAMPLE.assistant));
    const handles = answer.findings.flatMap((f) => f.evidence ?? []);
    expect(handles.length).toBeGreaterThan(0);
    for (const h of handles) expect(FINDINGS_EXAMPLE.user).toContain(`${h}: `);
  });

  it('repairs inside the last user turn and keeps the assistant turn open', async () => {
    const built = await buildPrompt('patient-view', summary(), MODEL_PROFILES['meditron-70b']);
    const repaired = repairPrompt(built);
    expect(repaired.prompt!.endsWith('nothing else.\n### Assistant:')).toBe(true);
    expect(repaired.prompt!.startsWith(built.prompt!.slice(0, -'\n### Assistant:'.length))).toBe(true);
    expect(repaired.templateVersion).toBe('patient-view@2/fastchat-meditron@1+repair');
    expect(repaired.hash).not.toBe(built.hash);
    expect(repaired.stop).toEqual(built.stop);
  });

  it('refuses to repair text that is not its template', async () => {
    const built = await buildPrompt('patient-view', summary(), MODEL_PROFILES['meditron-70b']);
    expect(() => repairPrompt({ ...built, prompt: '<|im_start|>user\nx<|im_end|>\n' })).toThrow(/FastChat/);
  });
});

describe('Llama-3-Meditron: chat messages, the server applies its template', () => {
  it('sends system + user messages, no stops, its own template version', async () => {
    const built = await buildPrompt('patient-view', summary(), MODEL_PROFILES['llama-3-meditron']);
    expect(built.messages?.map((m) => m.role)).toEqual(['system', 'user']);
    expect(built.stop).toEqual([]);
    expect(built.templateVersion).toBe('patient-view@2/llama-3-chat@1');
    const repaired = repairPrompt(built);
    expect(repaired.messages?.at(-1)?.content).toMatch(/nothing else\.$/);
  });

  it('takes the context from the pool when given one', async () => {
    const p = MODEL_PROFILES['llama-3-meditron'];
    const own = await buildPrompt('patient-view', summary(), p);
    const pool = await buildPrompt('patient-view', summary(), p, { contextTokens: 4096 });
    expect(own.manifest.budgetTokens).toBe(8192 - 512 - 48);
    expect(pool.manifest.budgetTokens).toBe(4096 - 512 - 48);
  });
});

describe('control strings', () => {
  it('lists every template family, longest first', () => {
    const all = allControlStrings();
    for (const s of [
      '<|im_start|>',
      '<|im_end|>',
      '[INST]',
      '[/INST]',
      '<<SYS>>',
      '<</SYS>>',
      '<s>',
      '</s>',
      '<|begin_of_text|>',
      '<|start_header_id|>',
      '<|end_header_id|>',
      '<|eot_id|>',
      '###',
      'User:',
      'Assistant:',
    ])
      expect(all).toContain(s);
    for (let i = 1; i < all.length; i++) expect(all[i - 1]!.length).toBeGreaterThanOrEqual(all[i]!.length);
    expect(new Set(all).size).toBe(all.length);
  });

  it('every profile stop string is one of its control strings', () => {
    for (const p of Object.values(MODEL_PROFILES))
      for (const s of p.template.stop) expect(p.template.controlStrings).toContain(s);
  });
});
