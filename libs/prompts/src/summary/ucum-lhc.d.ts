/** The part of @lhncbc/ucum-lhc (no bundled types) this service uses. */
declare module '@lhncbc/ucum-lhc' {
  interface ConversionResult {
    readonly status: 'succeeded' | 'failed' | 'error';
    readonly toVal: number | null;
  }
  interface UcumLhcUtils {
    convertUnitTo(fromUnit: string, value: number, toUnit: string): ConversionResult;
  }
  export const UcumLhcUtils: { getInstance(): UcumLhcUtils };
}
