export interface Coding {
  readonly system: string;
  readonly code: string;
  readonly display: string;
}

/** CDS Hooks 2.0 card, as this service emits it. */
export interface Card {
  readonly uuid: string;
  readonly summary: string;
  readonly detail?: string;
  readonly indicator: 'info' | 'warning' | 'critical';
  readonly source: { readonly label: string; readonly topic?: Coding };
  /** Reasons the clinician can pick when dismissing the card; they come back in feedback. */
  readonly overrideReasons?: ReadonlyArray<Coding>;
}

export interface CdsResponse {
  readonly cards: ReadonlyArray<Card>;
}
