// The dashboard's only way to the daemon: the public API with the signed-in token.
const TOKEN_KEY = 'cronwarden.token';

/** The signed-in token, kept in sessionStorage (gone with the tab, never in a URL). */
export const session = {
  get token() { return sessionStorage.getItem(TOKEN_KEY); },
  signIn(token) { sessionStorage.setItem(TOKEN_KEY, token.trim()); },
  signOut() { sessionStorage.removeItem(TOKEN_KEY); },
  /** The token's claims, for display only: the server decides what the token may do. */
  claims() {
    try {
      const part = this.token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
      const claims = JSON.parse(atob(part));
      const roles = Array.isArray(claims.roles) ? claims.roles : String(claims.roles ?? '').split(/[\s,]+/);
      return { sub: claims.sub ?? '?', roles: roles.filter(Boolean) };
    } catch {
      return { sub: '?', roles: [] };
    }
  },
};

/** An API answer that was not 2xx, with the server's message and the fields it names. */
export class ApiError extends Error {
  constructor(status, body) {
    super(typeof body?.message === 'string' ? body.message : `HTTP ${status}`);
    this.status = status;
    // Validation answers list every field at fault; a domain error (e.g. a bad cron) names one field.
    const single = typeof body?.field === 'string' ? [{ field: body.field, message: this.message }] : [];
    this.errors = Array.isArray(body?.errors) ? body.errors : single;
  }
}

function headers(json) {
  const result = { authorization: `Bearer ${session.token}` };
  if (json) result['content-type'] = 'application/json';
  return result;
}

/** Calls the API; a 401 signs out (the token expired or was refused). */
export async function api(method, path, body) {
  const response = await fetch(path, { method, headers: headers(body !== undefined), body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  const data = text && response.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text;
  if (response.status === 401) {
    session.signOut();
    window.dispatchEvent(new CustomEvent('cw:signed-out', { detail: data?.message }));
  }
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

/**
 * Reads a server-sent event stream with fetch (EventSource cannot send the Authorization header)
 * and calls `onEvent(name, data)` for each event until the server ends it or `signal` aborts.
 */
export async function streamEvents(path, onEvent, signal) {
  const response = await fetch(path, { headers: { ...headers(false), accept: 'text/event-stream' }, signal });
  if (!response.ok) throw new ApiError(response.status, await response.json().catch(() => null));
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value.replace(/\r\n/g, '\n');
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const event = parseEvent(buffer.slice(0, end));
      buffer = buffer.slice(end + 2);
      if (event) onEvent(event.name, event.data);
    }
  }
}

function parseEvent(block) {
  let name = 'message';
  const data = [];
  for (const line of block.split('\n')) {
    if (line.startsWith('event:')) name = line.slice(6).trim();
    else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
  }
  if (data.length === 0) return null;
  const text = data.join('\n');
  try {
    return { name, data: JSON.parse(text) };
  } catch {
    return { name, data: text };
  }
}
