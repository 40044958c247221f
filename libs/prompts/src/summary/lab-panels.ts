/**
 * Documented clinical panels: the LOINC codes whose latest value a hook's question needs, whatever their age.
 * The prefetch asks for these codes by name (`code=` list), so they arrive even when many newer unrelated
 * results would push them out of a "most recent N" query, and the prompt builder keeps them first.
 */
export const LAB_PANELS = {
  renal: {
    title: 'renal function',
    loinc: [
      '2160-0',
      '38483-4',
      '33914-3',
      '62238-1',
      '48642-3',
      '48643-1',
      '98979-8',
      '3094-0',
      '6299-2',
      '14959-1',
      '9318-7',
    ],
  },
  electrolytes: {
    title: 'electrolytes and glucose',
    loinc: [
      '2951-2',
      '2947-0',
      '2823-3',
      '6298-4',
      '2075-0',
      '2069-3',
      '2028-9',
      '20565-8',
      '17861-6',
      '49765-1',
      '19123-9',
      '2345-7',
      '2339-0',
    ],
  },
  cbc: {
    title: 'blood count',
    loinc: ['718-7', '20509-6', '4544-3', '20570-8', '6690-2', '26464-8', '777-3', '26515-7', '787-2'],
  },
  hba1c: { title: 'glycaemic control', loinc: ['4548-4', '17856-6', '41995-2'] },
  anticoagulation: { title: 'anticoagulation', loinc: ['6301-6', '34714-6', '46418-0', '5902-2', '3173-2', '14979-9'] },
  liver: {
    title: 'liver function',
    loinc: ['1742-6', '1743-4', '76625-3', '1920-8', '30239-8', '6768-6', '1975-2', '42719-5', '1751-7', '61151-7'],
  },
  lipids: { title: 'lipids', loinc: ['2093-3', '18262-6', '13457-7', '2089-1', '2085-9', '2571-8'] },
  /** Therapeutic drug levels and the thyroid test levothyroxine is dosed by. */
  drugLevels: {
    title: 'drug levels',
    loinc: ['10535-3', '14334-7', '4092-3', '3432-2', '3968-5', '4086-5', '4049-3', '3016-3'],
  },
} as const;

export type PanelId = keyof typeof LAB_PANELS;

const PANEL_OF = new Map<string, PanelId>(
  (Object.entries(LAB_PANELS) as Array<[PanelId, { loinc: readonly string[] }]>).flatMap(([id, p]) =>
    p.loinc.map((code) => [code, id] as const),
  ),
);

/** The panel a LOINC code belongs to, if any. */
export function panelOf(codes: ReadonlyArray<string>): PanelId | undefined {
  for (const c of codes) {
    const p = PANEL_OF.get(c);
    if (p) return p;
  }
  return undefined;
}

/** A `code=` search value for the panels, LOINC system named (`http://loinc.org|2160-0,...`). */
export function panelSearchCodes(panels: ReadonlyArray<PanelId>): string {
  return panels.flatMap((p) => LAB_PANELS[p].loinc.map((c) => `http://loinc.org|${c}`)).join(',');
}

/** Vital-sign LOINC codes (the FHIR vital signs profile set), for Observations that carry no category. */
export const VITAL_LOINC = new Set([
  '85353-1',
  '9279-1',
  '8867-4',
  '2708-6',
  '59408-5',
  '8310-5',
  '8302-2',
  '9843-4',
  '29463-7',
  '39156-5',
  '85354-9',
  '8480-6',
  '8462-4',
  '8478-0',
  '72514-3',
  '8287-5',
  '77606-2',
  '59576-9',
  '8289-1',
]);
