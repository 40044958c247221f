/**
 * One CSV field (RFC 4180). A leading =, +, - or @ (or tab / CR) is prefixed with an apostrophe so a spreadsheet
 * never runs an exported value as a formula (CSV injection).
 */
export function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  let s = typeof value === 'object' ? JSON.stringify(value) : String(value);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvLine(values: ReadonlyArray<unknown>): string {
  return `${values.map(csvField).join(',')}\r\n`;
}
