import { SECTIONS, type Fact, type SectionId } from './clinical-summary';
import { newestFirst, type Draft, type LeaveOut } from './summary-drafts';

const LINE_CAP: Readonly<Record<SectionId, number>> = {
  orders: 20,
  problems: 60,
  history: 10,
  medications: 60,
  allergies: 40,
  labs: 80,
  vitals: 12,
  encounters: 5,
  procedures: 10,
  immunizations: 12,
};

const isEventSection = (id: SectionId) => id === 'encounters' || id === 'procedures' || id === 'immunizations';

/**
 * The summary's lines per section: newest first (orders and allergies as given), one line per text (repeats
 * left out), capped, each with its handle (`P1`, `M2` ...). What is dropped is left out with the reason.
 */
export function sectionFacts(drafts: Readonly<Record<SectionId, Draft[]>>, leave: LeaveOut): Record<SectionId, Fact[]> {
  const sections = {} as Record<SectionId, Fact[]>;
  for (const id of Object.keys(SECTIONS) as SectionId[]) {
    const unique = new Map<string, Draft>();
    const ordered = id === 'orders' || id === 'allergies' ? drafts[id] : newestFirst(drafts[id]);
    for (const d of ordered) {
      const line = d.text.slice(0, 240);
      if (unique.has(line)) leave(d.ref, id, isEventSection(id) ? 'older-event' : 'duplicate');
      else unique.set(line, { ...d, text: line });
    }
    const lines = [...unique.values()];
    const cap =
      id === 'labs'
        ? panelsFirstCap(lines, LINE_CAP.labs)
        : { kept: lines.slice(0, LINE_CAP[id]), cut: lines.slice(LINE_CAP[id]) };
    cap.cut.forEach((d) => leave(d.ref, id, isEventSection(id) ? 'older-event' : 'over-cap'));
    sections[id] = cap.kept.map((d, i) => ({ ...d, handle: `${SECTIONS[id]}${i + 1}` }));
  }
  return sections;
}

/** Lab lines over the cap: panel results are kept before other results, newest first within each. */
function panelsFirstCap(lines: Draft[], cap: number): { kept: Draft[]; cut: Draft[] } {
  const ranked = [...lines.filter((d) => d.panel), ...lines.filter((d) => !d.panel)];
  const kept = new Set(ranked.slice(0, cap));
  return { kept: lines.filter((d) => kept.has(d)), cut: lines.filter((d) => !kept.has(d)) };
}
