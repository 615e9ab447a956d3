// In-memory login throttle keyed by client address + user name (OWASP authentication cheat sheet:
// throttle per account and source so one attacker cannot lock a user out from everywhere, and
// cannot spray one address across many names without each name filling its own bucket).
// A fixed window: after `maxFailures` failed attempts the key is refused until the window ends.

export interface RateLimitDecision {
  allowed: boolean;
  retryAfterSeconds: number;
}

interface Bucket {
  failures: number;
  windowEnds: number;
}

export class LoginRateLimiter {
  readonly #buckets = new Map<string, Bucket>();
  readonly #maxFailures: number;
  readonly #windowMs: number;
  readonly #maxKeys: number;
  readonly #now: () => number;

  constructor(opts: { maxFailures?: number; windowSeconds?: number; maxKeys?: number; now?: () => number } = {}) {
    this.#maxFailures = opts.maxFailures ?? 5;
    this.#windowMs = (opts.windowSeconds ?? 15 * 60) * 1000;
    this.#maxKeys = opts.maxKeys ?? 10_000;
    this.#now = opts.now ?? Date.now;
  }

  static key(ip: string, username: string): string {
    return `${ip}\u0000${username.toLowerCase()}`;
  }

  check(key: string): RateLimitDecision {
    const b = this.#live(key);
    if (b === undefined || b.failures < this.#maxFailures) return { allowed: true, retryAfterSeconds: 0 };
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((b.windowEnds - this.#now()) / 1000)) };
  }

  fail(key: string): void {
    const b = this.#live(key);
    if (b !== undefined) {
      b.failures++;
      return;
    }
    if (this.#buckets.size >= this.#maxKeys) this.#evict();
    this.#buckets.set(key, { failures: 1, windowEnds: this.#now() + this.#windowMs });
  }

  succeed(key: string): void {
    this.#buckets.delete(key);
  }

  #live(key: string): Bucket | undefined {
    const b = this.#buckets.get(key);
    if (b !== undefined && b.windowEnds <= this.#now()) {
      this.#buckets.delete(key);
      return undefined;
    }
    return b;
  }

  /** Bounded memory under a spray of names: drop expired buckets, then the oldest. */
  #evict(): void {
    const now = this.#now();
    for (const [k, b] of this.#buckets) if (b.windowEnds <= now) this.#buckets.delete(k);
    if (this.#buckets.size >= this.#maxKeys) {
      const oldest = this.#buckets.keys().next();
      if (!oldest.done) this.#buckets.delete(oldest.value);
    }
  }
}
