/**
 * Reads the gauges the router needs from Prometheus text exposition. Samples of one metric are summed over
 * their labels (vLLM labels by model name; one server may serve several).
 */
export function readGauges(text: string, names: ReadonlyArray<string>): Map<string, number> {
  const wanted = new Set(names);
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line.length === 0 || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    const [, name, , raw] = match;
    if (!name || !wanted.has(name)) continue;
    const value = Number(raw);
    if (!Number.isFinite(value)) continue;
    out.set(name, (out.get(name) ?? 0) + value);
  }
  return out;
}
