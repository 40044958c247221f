/** Kafka topics. The version suffix changes only with an incompatible message schema. */
export const Topics = {
  inferenceRequests: 'meditron.inference.requests.v1',
  inferenceRequestsDeadLetter: 'meditron.inference.requests.dlq.v1',
} as const;

export type TopicName = (typeof Topics)[keyof typeof Topics];
