import { asArray, isRecord, type Json } from '../summary/fhir-values';

/**
 * Every identifying string the Patient resource carries (names, identifiers, telecom, addresses, birth date,
 * extensions such as mother's maiden name and birthplace, contacts), so the redaction pass can remove them
 * wherever they appear again in free text.
 */
export function patientIdentifiers(patient: Json | undefined): string[] {
  if (!patient) return [];
  const out = new Set<string>();
  const add = (v: unknown) => {
    if (typeof v === 'string' && v.trim().length >= 2) out.add(v.trim());
  };
  const addName = (n: unknown) => {
    if (!isRecord(n)) return;
    asArray(n.given).forEach(add);
    add(n.family);
    add(n.text);
  };
  const addAddress = (a: unknown) => {
    if (!isRecord(a)) return;
    asArray(a.line).forEach(add);
    add(a.city);
    add(a.district);
    add(a.postalCode);
    add(a.text);
  };
  asArray(patient.name).forEach(addName);
  asArray(patient.identifier).forEach((i) => isRecord(i) && add(i.value));
  asArray(patient.telecom).forEach((t) => isRecord(t) && add(t.value));
  asArray(patient.address).forEach(addAddress);
  add(patient.birthDate);
  add(patient.id);
  for (const ext of asArray(patient.extension)) {
    if (!isRecord(ext)) continue;
    add(ext.valueString);
    addAddress(ext.valueAddress);
    if (isRecord(ext.valueHumanName)) addName(ext.valueHumanName);
  }
  for (const c of asArray(patient.contact)) {
    if (!isRecord(c)) continue;
    addName(c.name);
    asArray(c.telecom).forEach((t) => isRecord(t) && add(t.value));
    addAddress(c.address);
  }
  return [...out];
}
