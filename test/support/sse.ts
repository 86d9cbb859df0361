/** One server-sent event as received, with the time it arrived. */
export interface ReceivedEvent {
  event: string;
  data: any;
  at: number;
}

/**
 * Opens an SSE stream with fetch and collects its events until the server ends it (or `timeoutMs`
 * passes, which fails). `onEvent` sees each event as it arrives, e.g. to act while the run goes on.
 */
export async function collectEvents(
  url: string, token: string, onEvent: (event: ReceivedEvent) => void | Promise<void> = () => undefined, timeoutMs = 20_000,
): Promise<{ status: number; contentType: string | null; events: ReceivedEvent[] }> {
  const abort = AbortSignal.timeout(timeoutMs);
  const response = await fetch(url, { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' }, signal: abort });
  const events: ReceivedEvent[] = [];
  if (!response.ok || !response.body) return { status: response.status, contentType: response.headers.get('content-type'), events };
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const bytes of response.body) {
    buffer += decoder.decode(bytes as Uint8Array, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = parseBlock(block);
      if (event) {
        events.push(event);
        await onEvent(event);
      }
    }
  }
  return { status: response.status, contentType: response.headers.get('content-type'), events };
}

function parseBlock(block: string): ReceivedEvent | null {
  let event = 'message';
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) continue;
    if (line.startsWith('event: ')) event = line.slice(7);
    else if (line.startsWith('data: ')) data.push(line.slice(6));
  }
  return data.length === 0 ? null : { event, data: JSON.parse(data.join('\n')), at: Date.now() };
}
