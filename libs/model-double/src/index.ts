/** The model double: an OpenAI-compatible HTTP server that behaves like vLLM or TGI, for tests and the dev stack. */
export { startModelDouble, DEFAULT_HOST, DEFAULT_MODEL } from './server';
export { promptDigest, defaultJsonAnswer, defaultTextAnswer } from './answers';
export { chatPromptText } from './request-schemas';
export { tokenize, countTokens } from './tokens';
export type {
  DoubleFlavour,
  DoubleStats,
  FaultKind,
  FaultPlan,
  Latency,
  ModelDouble,
  ModelDoubleOptions,
  RecordedRequest,
  ResponseFormatShape,
} from './types';
