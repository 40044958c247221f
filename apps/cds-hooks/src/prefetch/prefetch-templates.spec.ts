import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HOOK_TEMPLATES, LAB_PANELS, panelSearchCodes, type PromptHook } from '@app/prompts';

const services = (
  JSON.parse(readFileSync(join(__dirname, '..', '..', 'config', 'cds-services.json'), 'utf8')) as {
    services: Array<{ id: string; hook: PromptHook; prefetch: Record<string, string> }>;
  }
).services;

describe('prefetch templates match the clinical question of each service', () => {
  it.each(services.map((s) => [s.id, s] as const))('%s', (_id, service) => {
    const p = service.prefetch;
    const template = HOOK_TEMPLATES[service.hook];
    // Every service reasons about medications: allergies, active medications and problems are always asked for.
    expect(p.allergies).toMatch(/^AllergyIntolerance\?patient=\{\{context\.patientId\}\}$/);
    expect(p.medications).toMatch(
      /^MedicationRequest\?patient=.*status=active,on-hold.*_include=MedicationRequest:medication/,
    );
    expect(p.conditions).toMatch(/^Condition\?patient=/);
    expect(p.vitals).toMatch(/^Observation\?.*category=vital-signs/);
    // The panel query names exactly the LOINC codes of the panels the prompt ranks first.
    const codes = new URLSearchParams(p.labPanels!.split('?')[1]).get('code');
    expect(codes).toBe(panelSearchCodes(template.panels));
    expect(template.panels.length).toBeGreaterThan(0);
    for (const panel of template.panels) expect(codes).toContain(`http://loinc.org|${LAB_PANELS[panel].loinc[0]}`);
    // Care-gap questions need immunizations; every template section asked for is fed by some key.
    if (['patient-view', 'encounter-start', 'appointment-book'].includes(service.hook))
      expect(p.immunizations).toMatch(/^Immunization\?patient=/);
  });
});
