import type { Command } from 'commander';
import { CliError, EXIT } from './cli-error.js';

export const DEFAULT_URL = 'http://127.0.0.1:8000';

/** The options every command that talks to a running daemon accepts. */
export interface ApiOptions {
  url?: string;
  token?: string;
  json?: boolean;
}

/** Adds `--url`, `--token` and `--json` to a command that calls the API. */
export function addApiOptions(command: Command): Command {
  return command
    .option('--url <url>', `the daemon (default: $CRONWARDEN_URL or ${DEFAULT_URL})`)
    .option('--token <jwt>', 'bearer token (default: $CRONWARDEN_TOKEN)')
    .option('--json', 'print JSON instead of a table, for scripts');
}

/** A client for the daemon named by the flags, else by CRONWARDEN_URL and CRONWARDEN_TOKEN. */
export function clientFor(options: ApiOptions, env: NodeJS.ProcessEnv): ApiClient {
  const url = options.url ?? (env.CRONWARDEN_URL?.trim() || DEFAULT_URL);
  try {
    if (!/^https?:$/.test(new URL(url).protocol)) throw new Error('not http');
  } catch {
    throw new CliError(`--url must be an http:// or https:// URL, not "${url}"`, EXIT.usage);
  }
  const token = options.token ?? (env.CRONWARDEN_TOKEN?.trim() || null);
  return new ApiClient(url.replace(/\/+$/, ''), token);
}

/** The daemon's HTTP API as JSON in, JSON out; every failure becomes a one-line `CliError`. */
export class ApiClient {
  constructor(readonly url: string, private readonly token: string | null) {}

  /** GET or send JSON; resolves with the parsed body (`null` for 204). */
  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await this.fetch(method, path, { body, accept: 'application/json' });
    if (response.status === 204) return null as T;
    return (await response.json()) as T;
  }

  /** GET a text/plain resource (run output). */
  async text(path: string): Promise<string> {
    return (await this.fetch('GET', path, { accept: 'text/plain' })).text();
  }

  /** GET a server-sent event stream; the response, checked, with its body still to read. */
  stream(path: string, signal: AbortSignal): Promise<Response> {
    return this.fetch('GET', path, { accept: 'text/event-stream', signal });
  }

  private async fetch(method: string, path: string, options: { body?: unknown; accept: string; signal?: AbortSignal }): Promise<Response> {
    const headers: Record<string, string> = { accept: options.accept };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      const body = options.body === undefined ? undefined : JSON.stringify(options.body);
      response = await fetch(this.url + path, { method, headers, body, signal: options.signal });
    } catch (error) {
      if ((error as Error).name === 'AbortError') throw error;
      throw unreachable(this.url, error);
    }
    if (!response.ok) throw await this.failure(method, path, response);
    return response;
  }

  /** The API's own message for a failed request, prefixed with what kind of failure it is. */
  private async failure(method: string, path: string, response: Response): Promise<CliError> {
    const message = await messageOf(response);
    if (response.status === 401) {
      const hint = this.token ? '' : ' (pass --token or set CRONWARDEN_TOKEN)';
      return new CliError(`unauthorized: ${message}${hint}`, EXIT.api);
    }
    if (response.status === 403) return new CliError(`forbidden: ${message}`, EXIT.api);
    if (response.status === 404) {
      // Nest's own 404 for a route it does not have: an older daemon than this CLI.
      if (message.startsWith('Cannot ')) return new CliError(`not found: the daemon at ${this.url} does not serve ${method} ${path.split('?')[0]} (is it older than this CLI?)`, EXIT.api);
      return new CliError(`not found: ${message.replace(/ not found$/, '')}`, EXIT.api);
    }
    return new CliError(`${response.status} ${response.statusText || 'error'}: ${message}`, EXIT.api);
  }
}

async function messageOf(response: Response): Promise<string> {
  const text = await response.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { message?: unknown };
    const message = Array.isArray(body.message) ? body.message.join('; ') : body.message;
    if (typeof message === 'string' && message !== '') return message;
  } catch {
    // Not JSON (a proxy's error page): its first line says more than nothing.
  }
  return text.split('\n')[0].trim().slice(0, 200) || response.statusText || `HTTP ${response.status}`;
}

/** fetch's "fetch failed" hides the reason in `cause` (ECONNREFUSED, ENOTFOUND, a TLS error). */
function unreachable(url: string, error: unknown): CliError {
  const cause = (error as Error).cause as (Error & { code?: string }) | undefined;
  const reason = cause?.message ?? cause?.code ?? (error as Error).message;
  return new CliError(`cannot reach the daemon at ${url}: ${reason}`, EXIT.unreachable, { cause: error });
}
