import { Test } from '@nestjs/testing';
import { PromptBuilder } from './budget/prompt-builder.service';
import { MODEL_PROFILES, type ModelProfile } from './profiles/model-profiles';
import { PromptsModule } from './prompts.module';
import { MODEL_PROFILE } from './prompts.module-definition';
import { Summarizer } from './summary/summarizer.service';

const NOW = new Date('2026-11-29T12:00:00Z');
const PATIENT = { resourceType: 'Patient', id: 'p1', gender: 'female', birthDate: '1950-03-01' };
const CONDITIONS = {
  resourceType: 'Bundle',
  type: 'searchset',
  entry: [
    {
      resource: {
        resourceType: 'Condition',
        id: 'c1',
        clinicalStatus: { coding: [{ code: 'active' }] },
        code: { coding: [{ system: 'http://snomed.info/sct', code: '44054006', display: 'Diabetes mellitus type 2' }] },
      },
    },
  ],
};

async function compiled(profile: ModelProfile) {
  const moduleRef = await Test.createTestingModule({ imports: [PromptsModule.register({ profile })] }).compile();
  return {
    profile: moduleRef.get<ModelProfile>(MODEL_PROFILE),
    summarizer: moduleRef.get(Summarizer),
    prompts: moduleRef.get(PromptBuilder),
  };
}

/** The module binds the profile it is registered with to what it exports. */
describe('PromptsModule', () => {
  it.each([['meditron-70b'], ['llama-3-meditron']] as const)(
    'exports the %s profile, and prompts rendered for it',
    async (id) => {
      const { profile, summarizer, prompts } = await compiled(MODEL_PROFILES[id]);
      expect(profile).toBe(MODEL_PROFILES[id]);
      expect(prompts.profile).toBe(profile);
      const summary = summarizer.summarize({ patient: PATIENT, conditions: CONDITIONS }, NOW, [], {
        templates: { patient: 'Patient/{{context.patientId}}', conditions: 'Condition?patient={{context.patientId}}' },
      });
      expect(summary.sections.problems.map((f) => f.text)).toEqual([expect.stringContaining('Diabetes')]);
      const built = await prompts.build('patient-view', summary);
      expect(built.api).toBe(profile.api);
      expect(JSON.stringify(built.prompt ?? built.messages)).toContain('Diabetes');
      const repaired = prompts.repair(built);
      expect(repaired.templateVersion).toBe(`${built.templateVersion}+repair`);
      expect(repaired.hash).not.toBe(built.hash);
    },
  );
});
