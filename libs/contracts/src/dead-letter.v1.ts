/** A message the proxy refused, with why. The original value is kept so an operator can replay it. */
export interface DeadLetterV1 {
  readonly schema: 'dead-letter.v1';
  readonly reason: string;
  readonly sourceTopic: string;
  readonly partition: number;
  readonly offset: string;
  readonly receivedAt: string;
  readonly valueBase64: string | null;
}
