import { UcumLhcUtils } from '@lhncbc/ucum-lhc';

const ucum = UcumLhcUtils.getInstance();

/** `{1.73_m2}` and other UCUM annotations: UCUM treats them as 1, but they name different measurements. */
function annotations(unit: string): string {
  return (unit.match(/\{[^}]*\}/g) ?? []).join('');
}

/**
 * `value` (in `from`) expressed in `to`, or null when the two are not comparable: UCUM (the Lister Hill
 * Center's maintained library) decides commensurability and the factor; units that differ in their
 * annotations (eGFR per 1.73 m2 vs a raw clearance in mL/min) are never compared, although UCUM would.
 */
export function convertUnit(value: number, from: string, to: string): number | null {
  if (from === to) return value;
  if (!from || !to || annotations(from) !== annotations(to)) return null;
  try {
    const r = ucum.convertUnitTo(from, value, to);
    return r.status === 'succeeded' && typeof r.toVal === 'number' && Number.isFinite(r.toVal) ? r.toVal : null;
  } catch {
    return null;
  }
}
