import { createHmac } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-cronwarden-signature';

/** `sha256=<hex HMAC of the exact body>`, as receivers verify it. */
export function signature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** POSTs one JSON webhook; resolves with why it failed, or null when the receiver answered 2xx. */
export async function postWebhook(url: string, payload: object, secret: string | null, timeoutMs: number): Promise<string | null> {
  const body = JSON.stringify(payload);
  const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'cronwarden' };
  if (secret) headers[SIGNATURE_HEADER] = signature(secret, body);
  try {
    const response = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
    await response.body?.cancel();
    return response.ok ? null : `receiver answered ${response.status}`;
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    return `${(error as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (error as Error).message}${cause ? ` (${cause})` : ''}`;
  }
}
