/** `notify:` on a pipeline or a job: webhooks told when its runs end in chosen ways. */
import type { NotifyEvent, NotifyTarget } from './config.types.js';
import { isPlainObject, type Parse, show } from './config.section.js';

export const NOTIFY_EVENTS: readonly NotifyEvent[] = ['failed', 'timed_out', 'abandoned', 'cancelled', 'succeeded', 'recovered', 'late'];
const TARGET_KEYS = ['url', 'on', 'secret'];
const DEFAULT_EVENTS: NotifyEvent[] = ['failed', 'timed_out', 'abandoned', 'recovered', 'late'];

/** A list of `{ url, on?, secret? }`; `on` defaults to the events an operator must act on. */
export const notifyTargets: Parse<NotifyTarget[]> = (value) => {
  if (!Array.isArray(value)) throw new Error('must be a list of { url, on, secret }');
  return value.map((item, index) => {
    const where = `item ${index + 1}`;
    if (!isPlainObject(item)) throw new Error(`${where} must be a mapping with url, on and secret`);
    const unknown = Object.keys(item).filter((key) => !TARGET_KEYS.includes(key));
    if (unknown.length > 0) throw new Error(`${where}: unknown key ${unknown.join(', ')}; expected one of: ${TARGET_KEYS.join(', ')}`);
    return { url: webhookUrl(item.url, where), on: events(item.on, where), secret: secret(item.secret, where) };
  });
};

function webhookUrl(value: unknown, where: string): string {
  if (typeof value !== 'string') throw new Error(`${where}: url is required (an http or https URL)`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`${where}: url ${show(value)} is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`${where}: url must be http or https, not ${url.protocol}`);
  return url.toString();
}

function events(value: unknown, where: string): NotifyEvent[] {
  if (value === undefined || value === null) return DEFAULT_EVENTS;
  if (!Array.isArray(value) || value.length === 0) throw new Error(`${where}: on must be a non-empty list of ${NOTIFY_EVENTS.join(', ')}`);
  for (const event of value) {
    if (!NOTIFY_EVENTS.includes(event)) throw new Error(`${where}: on: ${show(event)} is not one of ${NOTIFY_EVENTS.join(', ')}`);
  }
  return [...new Set(value as NotifyEvent[])];
}

function secret(value: unknown, where: string): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || value.length < 16) throw new Error(`${where}: secret must be a string of at least 16 characters`);
  return value;
}
