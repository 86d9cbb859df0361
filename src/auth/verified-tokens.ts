import { LRUCache } from 'lru-cache';
import type { Caller } from './caller.js';

/** The time claims of a verified token, in seconds since the epoch as in the JWT. */
export interface TokenTimes {
  exp: number;
  nbf?: unknown;
}

interface Verified {
  caller: Caller;
  exp: number;
  nbf: number | null;
}

/**
 * Callers of tokens that passed verification, by the raw token text, so a client sending the same
 * token again is not verified again (jsonwebtoken's decode, HMAC and claim checks were a tenth of
 * the daemon's CPU under the list load). An entry is used only while the token's own `exp` and
 * `nbf` still hold, with the same tolerance and arithmetic jsonwebtoken applies, so a token stops
 * being accepted at the instant a fresh verification would refuse it. Holds at most `maxEntries`;
 * the least recently used goes first. Only ever given tokens that verified: a failure is not kept.
 */
export class VerifiedTokens {
  private readonly entries: LRUCache<string, Verified>;

  constructor(maxEntries: number, private readonly toleranceSeconds: number) {
    this.entries = new LRUCache({ max: maxEntries });
  }

  /** The caller of a token verified before, if its `exp` and `nbf` still hold at `nowSeconds`. */
  get(token: string, nowSeconds: number): Caller | undefined {
    const entry = this.entries.get(token);
    if (entry === undefined) return undefined;
    if (this.holds(entry, nowSeconds)) return entry.caller;
    this.entries.delete(token);
    return undefined;
  }

  /** Keeps the caller of a token that has just verified. */
  remember(token: string, times: TokenTimes, caller: Caller): void {
    this.entries.set(token, { caller, exp: times.exp, nbf: typeof times.nbf === 'number' ? times.nbf : null });
  }

  /** Tokens kept (for tests). */
  get size(): number {
    return this.entries.size;
  }

  // jsonwebtoken's own checks: expired when now >= exp + tolerance, not yet valid when nbf > now + tolerance.
  private holds(entry: Verified, nowSeconds: number): boolean {
    if (nowSeconds >= entry.exp + this.toleranceSeconds) return false;
    return entry.nbf === null || entry.nbf <= nowSeconds + this.toleranceSeconds;
  }
}
