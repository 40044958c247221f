export interface Coding {
  readonly system: string;
  readonly code: string;
  readonly display: string;
}

/** CDS Hooks 2.0.1 Action: the service builds the resource; `delete` names the draft by `resourceId`. */
export type SuggestionAction =
  | { readonly type: 'create'; readonly description: string; readonly resource: fhir4.Resource }
  | { readonly type: 'delete'; readonly description: string; readonly resourceId: string };

/** CDS Hooks 2.0.1 Suggestion: accepting it applies all its actions (deletes first, then creates). */
export interface Suggestion {
  readonly uuid: string;
  readonly label: string;
  readonly actions: ReadonlyArray<SuggestionAction>;
}

/** CDS Hooks 2.0.1 Link; this service only emits `absolute` links to static documentation. */
export interface CardLink {
  readonly label: string;
  readonly url: string;
  readonly type: 'absolute';
}

/** CDS Hooks 2.0 card, as this service emits it. */
export interface Card {
  readonly uuid: string;
  readonly summary: string;
  readonly detail?: string;
  readonly indicator: 'info' | 'warning' | 'critical';
  readonly source: { readonly label: string; readonly topic?: Coding };
  readonly suggestions?: ReadonlyArray<Suggestion>;
  /** Required by the spec whenever `suggestions` is present. */
  readonly selectionBehavior?: 'at-most-one' | 'any';
  /** Reasons the clinician can pick when dismissing the card; they come back in feedback. */
  readonly overrideReasons?: ReadonlyArray<Coding>;
  readonly links?: ReadonlyArray<CardLink>;
}

export interface CdsResponse {
  readonly cards: ReadonlyArray<Card>;
}
