/**
 * What a backend says about itself: vLLM in `/v1/models` (`max_model_len`), TGI in `/info`
 * (`version`, `max_input_tokens`, `max_total_tokens`, `model_id`). Null fields were not reported.
 */
export interface BackendFacts {
  /** Model ids `/v1/models` lists. */
  readonly models: ReadonlyArray<string>;
  /** TGI's router version (`/info` `version`), e.g. "3.3.4"; null for vLLM or when unknown. */
  readonly version: string | null;
  /** Longest prompt accepted, in the server's own tokens. */
  readonly maxInputTokens: number | null;
  /** Longest prompt + answer accepted. */
  readonly maxTotalTokens: number | null;
}

/** TGI took `response_format: {type: "json_schema", value: {name, schema}}` from 3.3.0 on (router/src/lib.rs). */
export function tgiTakesJsonSchema(version: string | null): boolean {
  if (version === null) return false;
  const m = /^(\d+)\.(\d+)/.exec(version);
  if (!m) return false;
  const [major, minor] = [Number(m[1]), Number(m[2])];
  return major > 3 || (major === 3 && minor >= 3);
}

/**
 * The context the prompt budget may assume across the pool: the smallest any backend reports (for TGI, the
 * smaller of its total and its input limit plus the answer). Null when no backend reports one.
 */
export function poolContextTokens(facts: ReadonlyArray<BackendFacts | null>, maxOutputTokens: number): number | null {
  let smallest: number | null = null;
  for (const f of facts) {
    if (!f) continue;
    const limits = [f.maxTotalTokens, f.maxInputTokens === null ? null : f.maxInputTokens + maxOutputTokens].filter(
      (n): n is number => n !== null,
    );
    if (limits.length === 0) continue;
    const ctx = Math.min(...limits);
    smallest = smallest === null ? ctx : Math.min(smallest, ctx);
  }
  return smallest;
}
