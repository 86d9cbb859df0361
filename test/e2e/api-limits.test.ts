import { api, FIXTURES, token, useTestDaemon } from '../support/daemon.js';

const alice = token('alice', ['user']);

describe('the HTTP limits', () => {
  const daemon = useTestDaemon('pglite', `pipelines:\n  ok:\n    command: ["${FIXTURES}/exit-0.sh"]\n`);

  const post = (body: string | ReadableStream<Uint8Array>, headers: Record<string, string> = {}) => fetch(`${daemon.url}/api/cron/jobs`, {
    method: 'POST', headers: { authorization: `Bearer ${alice}`, 'content-type': 'application/json', ...headers }, body,
    ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
  } as RequestInit);
  const jobWithNote = (bytes: number) => JSON.stringify({ pipeline: 'ok', every: '1h', name: 'x'.repeat(bytes) });

  it('answers 413 to a JSON body over 64 KiB and reads one just under it', async () => {
    const over = await post(jobWithNote(64 * 1024));
    expect(over.status).toBe(413);
    expect(await over.json()).toMatchObject({ statusCode: 413 });
    const under = await post(jobWithNote(60 * 1024));
    expect(under.status).toBe(400);
    expect(((await under.json()) as { field: string }).field).toBe('name');
  });

  it('answers 413 to an oversized body sent in chunks without a length', async () => {
    const bytes = new TextEncoder().encode(jobWithNote(80 * 1024));
    const stream = new ReadableStream({
      start(controller) {
        for (let at = 0; at < bytes.length; at += 8192) controller.enqueue(bytes.subarray(at, at + 8192));
        controller.close();
      },
    });
    expect((await post(stream)).status).toBe(413);
  });

  it('reads an empty JSON body as {}, and answers 415 naming a body type it does not read', async () => {
    expect((await post(JSON.stringify({ id: 'empty-body', pipeline: 'ok', every: '1h' }))).status).toBe(201);
    const triggered = await fetch(`${daemon.url}/api/cron/jobs/empty-body/trigger`, { method: 'POST', headers: { authorization: `Bearer ${alice}`, 'content-type': 'application/json' } });
    expect(triggered.status).toBe(202);
    const xml = await post('<job/>', { 'content-type': 'application/xml' });
    expect(xml.status).toBe(415);
    expect(await xml.json()).toMatchObject({ statusCode: 415, message: expect.stringMatching(/unsupported media type/i) });
  });

  it('routes a path in any case and with a trailing slash, and rate-limits it the same', async () => {
    const trailing = await api(daemon, 'GET', '/api/cron/jobs/', { token: alice });
    expect(trailing.status).toBe(200);
    const shouted = await api(daemon, 'GET', '/API/Cron/Jobs', { token: alice });
    expect(shouted.status).toBe(200);
    expect(shouted.headers.get('x-ratelimit-limit')).toBe('3000');
  });

  it('sends helmet security headers, on a 404 too, and no X-Powered-By', async () => {
    const response = await api(daemon, 'GET', '/api/cron/jobs', { token: alice });
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(response.headers.get('x-powered-by')).toBeNull();
    expect((await api(daemon, 'GET', '/health')).headers.get('x-frame-options')).toBe('SAMEORIGIN');
    expect((await api(daemon, 'GET', '/no-such-page')).headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('rate-limits /api per client and says how much is left', async () => {
    const first = await api(daemon, 'GET', '/api/cron/jobs', { token: alice });
    const second = await api(daemon, 'GET', '/api/cron/jobs', { token: alice });
    expect(first.headers.get('x-ratelimit-limit')).toBe('3000');
    expect(Number(second.headers.get('x-ratelimit-remaining'))).toBe(Number(first.headers.get('x-ratelimit-remaining')) - 1);
    expect((await api(daemon, 'GET', '/health')).headers.get('x-ratelimit-limit')).toBeNull();
  });
});
