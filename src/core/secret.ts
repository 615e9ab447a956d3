// A resolved secret. It never prints itself: logs, JSON dumps and util.inspect show
// "[redacted]", and only the adapter that needs the value calls reveal().
import { inspect } from 'node:util';

export class Secret {
  readonly #value: string;
  /** Where it came from ("env:NAME" or "file:/path"), safe to show in errors. */
  readonly source: string;

  constructor(value: string, source: string) {
    this.#value = value;
    this.source = source;
  }

  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return '[redacted]';
  }

  toJSON(): string {
    return '[redacted]';
  }

  [inspect.custom](): string {
    return `Secret(${this.source})`;
  }
}
