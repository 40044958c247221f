import type { InferenceResultEntity } from '../entities/inference-result.entity';

/**
 * `inference_results`' columns, each with the entity field it stores: the result batch's INSERT is written here
 * rather than through TypeORM's QueryBuilder, which re-derived the same statement from entity metadata on every
 * batch (a measurable share of the proxy's CPU per hook).
 */
export const RESULT_COLUMNS = [
  ['request_id', 'requestId'],
  ['outcome', 'outcome'],
  ['backend', 'backend'],
  ['output_text', 'outputText'],
  ['error_code', 'errorCode'],
  ['tokens_in', 'tokensIn'],
  ['tokens_out', 'tokensOut'],
  ['latency_ms', 'latencyMs'],
  ['completed_at', 'completedAt'],
  ['hook_instance', 'hookInstance'],
  ['model', 'model'],
  ['template_version', 'templateVersion'],
  ['prompt_hash', 'promptHash'],
  ['attempts', 'attempts'],
  ['served_from', 'servedFrom'],
] as const satisfies ReadonlyArray<readonly [string, keyof InferenceResultEntity]>;
