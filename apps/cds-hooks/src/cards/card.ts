/** CDS Hooks 2.0 card, as this service emits it. */
export interface Card {
  readonly uuid: string;
  readonly summary: string;
  readonly detail?: string;
  readonly indicator: 'info' | 'warning' | 'critical';
  readonly source: { readonly label: string; readonly topic?: { system: string; code: string; display: string } };
}

export interface CdsResponse {
  readonly cards: ReadonlyArray<Card>;
}
