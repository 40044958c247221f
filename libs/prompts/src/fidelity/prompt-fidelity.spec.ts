import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildPrompt, HOOK_TEMPLATES, MODEL_PROFILES, type PromptHook } from '@app/prompts';
import { FIXTURES_DIR } from '@app/testing/synthea';
import { expectFromChart, type ExpectedFact } from './expectations';
import { SUMMARY_NOW, variantChart, variantSummary } from './variant-summary';
import { VARIANTS, type Variant } from './variants';

const FIXTURE_FILES = readdirSync(FIXTURES_DIR)
  .filter((f) => f.endsWith('.json'))
  .sort();
const REPO = join(__dirname, '..', '..', '..', '..');
const PROFILE = MODEL_PROFILES['meditron-70b'];
const UNKNOWABLE: Record<string, Set<'P' | 'M' | 'A' | 'L'>> = {
  'allergies key missing': new Set(['A']),
  'labs key failed': new Set(['L']),
};
const SECTION_OF = { P: 'Active problems', M: 'Active medications', A: 'Allergies and intolerances', L: 'Labs' };
const LEFT_FOR_LENGTH = new Set(['over-budget', 'over-cap']);

interface Outcome {
  expected: number;
  present: number;
  leftForLength: number;
  wronglyAbsent: string[];
  falseStatements: string[];
}

function sectionText(user: string, title: string): string {
  const at = user.indexOf(`\n${title}`);
  if (at < 0) return '';
  const rest = user.slice(at + 1);
  const end = rest.slice(1).search(/\n[A-Z][^\n]*:/);
  return end < 0 ? rest : rest.slice(0, end + 1);
}

async function check(file: string, variant: Variant, hook: PromptHook): Promise<Outcome> {
  const chart = variantChart(join(FIXTURES_DIR, file), variant);
  const summary = await variantSummary(chart, variant, hook);
  const built = await buildPrompt(hook, summary, PROFILE);
  const text = built.prompt!;
  const user = text.slice(text.indexOf('<patient-data>'));
  const lines = new Map([...user.matchAll(/^ {2}([A-Z]+\d+): (.*)$/gm)].map((m) => [m[1]!, m[2]!] as const));
  const byRef = new Map<string, string[]>();
  for (const [handle, ref] of Object.entries(built.manifest.references))
    byRef.set(ref, [...(byRef.get(ref) ?? []), handle]);
  const leftForLength = new Set(built.manifest.leftOut.filter((l) => LEFT_FOR_LENGTH.has(l.reason)).map((l) => l.ref));
  const unknowable = UNKNOWABLE[variant.name] ?? new Set();
  const expectation = expectFromChart(chart, { now: SUMMARY_NOW, panels: HOOK_TEMPLATES[hook].panels, unknowable });
  const header = /^Patient: .*$/m.exec(user)?.[0] ?? '';
  const out: Outcome = { expected: 0, present: 0, leftForLength: 0, wronglyAbsent: [], falseStatements: [] };

  const stated = (f: ExpectedFact): boolean => {
    if (f.prefix === 'header') return f.states(header);
    if (f.kind === 'lab') return [...lines].some(([h, l]) => h.startsWith('L') && f.states(l));
    return f.refs.some((r) => (byRef.get(r) ?? []).some((h) => h.startsWith(f.prefix) && f.states(lines.get(h) ?? '')));
  };
  const facts: ExpectedFact[] = [...expectation.facts];
  if (hook.startsWith('order'))
    facts.push({
      kind: 'medication',
      label: 'draft order with dose',
      prefix: 'M',
      refs: [],
      states: () =>
        /D1: MedicationRequest: Ibuprofen 600 MG Oral Tablet \[197806\], 600 mg Oral route 3 times per day/.test(user),
    });
  for (const f of facts) {
    out.expected += 1;
    if (f.refs.length === 0 ? f.states(user) : stated(f)) out.present += 1;
    else if (f.refs.some((r) => leftForLength.has(r))) out.leftForLength += 1;
    else out.wronglyAbsent.push(`${f.kind}: ${f.label}`);
  }
  for (const r of expectation.excluded)
    if (byRef.has(r)) out.falseStatements.push(`shown though ${r} is entered in error or refuted`);
  for (const prefix of ['P', 'M', 'A', 'L'] as const) {
    const section = sectionText(user, SECTION_OF[prefix]);
    if (unknowable.has(prefix) && !section.includes('not available (could not be retrieved)'))
      out.falseStatements.push(`${SECTION_OF[prefix]} not said to be unavailable`);
    if (
      section.includes('(none recorded)') &&
      (unknowable.has(prefix) || expectation.facts.some((f) => f.prefix === prefix))
    )
      out.falseStatements.push(`${SECTION_OF[prefix]} said to be none`);
  }
  if (variant.name === 'recent labs key failed' && !sectionText(user, SECTION_OF.L).includes('could not be retrieved'))
    out.falseStatements.push('Labs not said to be incomplete');
  if (variant.name === 'free-text identifiers')
    for (const leak of ['Alan', 'Grant', 'December 2, 1957', '4567', '123 45 6789', 'aged 95'])
      if (new RegExp(`\\b${leak}\\b`).test(text)) out.falseStatements.push(`identifier reached the prompt: ${leak}`);
  if (variant.name === 'units') {
    // The g/L result must not be trended against g/dL values as if they were the same number.
    const hb = [...lines.values()].find((l) => l.startsWith('Hemoglobin [Mass/volume] in Blood:'));
    if (hb && / g\/dL/.test(hb)) out.falseStatements.push('hemoglobin history not converted to the latest unit');
  }
  return out;
}

const HOOKS = Object.keys(HOOK_TEMPLATES) as PromptHook[];
const VARIANT_HOOKS: PromptHook[] = ['patient-view', 'order-sign', 'encounter-discharge'];
const CASES = FIXTURE_FILES.flatMap((f) =>
  VARIANTS.flatMap((v) => (v.name === 'as sent' ? HOOKS : VARIANT_HOOKS).map((h) => [f, v, h] as const)),
);

describe('prompt fidelity: every fixture, every variant, per hook, checked against the chart itself', () => {
  const table = new Map<string, Outcome>();

  afterAll(() => {
    const rows = [...table].map(
      ([f, o]) =>
        `| ${f} | ${o.expected} | ${o.present} | ${o.leftForLength} | ${o.wronglyAbsent.length} | ${o.falseStatements.length} |`,
    );
    const md = [
      '| fixture | facts expected | present | left out for length (counted) | wrongly absent | false statements |',
      '|---|---:|---:|---:|---:|---:|',
      ...rows,
    ].join('\n');
    const dir = join(REPO, 'test', 'artifacts', 'fidelity');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'fidelity-table.md'), `${md}\n`);
    process.stdout.write(`\nPrompt fidelity (${CASES.length} prompts):\n${md}\n`);
  });

  it.each(CASES.map(([f, v, h]) => [f.split('_').slice(0, 2).join(' '), v.name, h, f, v] as const))(
    '%s / %s / %s',
    async (label, _v, hook, file, variant) => {
      const o = await check(file, variant, hook);
      const row = table.get(label) ?? {
        expected: 0,
        present: 0,
        leftForLength: 0,
        wronglyAbsent: [],
        falseStatements: [],
      };
      table.set(label, {
        expected: row.expected + o.expected,
        present: row.present + o.present,
        leftForLength: row.leftForLength + o.leftForLength,
        wronglyAbsent: [...row.wronglyAbsent, ...o.wronglyAbsent],
        falseStatements: [...row.falseStatements, ...o.falseStatements],
      });
      expect(o.expected).toBeGreaterThan(0);
      expect({ wronglyAbsent: o.wronglyAbsent, falseStatements: o.falseStatements }).toEqual({
        wronglyAbsent: [],
        falseStatements: [],
      });
    },
  );
});
