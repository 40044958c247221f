import { randomBytes, timingSafeEqual } from 'node:crypto';

/** A signed-in console user. Tokens stay here, in the gateway's memory; the browser holds only the session id. */
export interface ConsoleSession {
  readonly id: string;
  /** Sent back by the console on every state-changing call (x-csrf-token). */
  readonly csrfToken: string;
  readonly subject: string;
  readonly name: string | null;
  accessToken: string;
  refreshToken: string | undefined;
  readonly idToken: string | undefined;
  /** When the access token expires (ms since epoch). */
  accessExpiresAt: number;
  /** When the session ends whatever refreshes allow. */
  readonly endsAt: number;
}

/** A sign-in under way: what the callback needs to finish it. */
export interface PendingLogin {
  readonly state: string;
  readonly codeVerifier: string;
  readonly nonce: string;
  readonly startedAt: number;
}

const PENDING_TTL_MS = 10 * 60_000;

/**
 * Console sessions and pending sign-ins in memory, bounded: the oldest go first when full. A restart signs everyone
 * out (they sign in again through the identity provider); replicas behind a load balancer need session affinity.
 */
export class ConsoleSessionStore {
  private readonly sessions = new Map<string, ConsoleSession>();
  private readonly pending = new Map<string, PendingLogin>();

  constructor(private readonly maxSessions: number) {}

  static newId(): string {
    return randomBytes(32).toString('base64url');
  }

  addPending(p: PendingLogin): void {
    this.prune(this.pending, this.maxSessions);
    this.pending.set(p.state, p);
  }

  /** The pending sign-in for that state, once (a replayed callback finds nothing). */
  takePending(state: string, now = Date.now()): PendingLogin | undefined {
    const p = this.pending.get(state);
    this.pending.delete(state);
    return p && now - p.startedAt < PENDING_TTL_MS ? p : undefined;
  }

  add(s: ConsoleSession): void {
    this.prune(this.sessions, this.maxSessions);
    this.sessions.set(s.id, s);
  }

  get(id: string, now = Date.now()): ConsoleSession | undefined {
    const s = this.sessions.get(id);
    if (s && s.endsAt <= now) {
      this.sessions.delete(id);
      return undefined;
    }
    return s;
  }

  remove(id: string): ConsoleSession | undefined {
    const s = this.sessions.get(id);
    this.sessions.delete(id);
    return s;
  }

  /** Constant-time comparison of the CSRF token a request carried with the session's. */
  static csrfMatches(s: ConsoleSession, given: string | undefined): boolean {
    if (!given) return false;
    const a = Buffer.from(s.csrfToken);
    const b = Buffer.from(given);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  private prune<V>(map: Map<string, V>, max: number): void {
    while (map.size >= max) {
      const oldest = map.keys().next();
      if (oldest.done) return;
      map.delete(oldest.value);
    }
  }
}
