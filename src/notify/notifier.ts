// A notification channel (webhook, e-mail). Sends are retried by the job engine (job type
// `notify:<channel>`), so send() makes one attempt and says whether another may help:
// a retryable AppError (NOTIFY_UNAVAILABLE) retries with backoff, NOTIFY_REJECTED gives up.
import type { NotifyMessage } from './notification.ts';

export interface Notifier {
  /** `webhook` or `email`; the job type is `notify:<channel>`. */
  readonly channel: string;
  send(message: NotifyMessage, signal: AbortSignal): Promise<void>;
  close?(): Promise<void>;
}

export const notifyJobType = (channel: string): string => `notify:${channel}`;
