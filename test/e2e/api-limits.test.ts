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

  it('sends helmet security headers and no X-Powered-By', async () => {
    const response = await api(daemon, 'GET', '/api/cron/jobs', { token: alice });
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(response.headers.get('x-powered-by')).toBeNull();
    expect((await api(daemon, 'GET', '/health')).headers.get('x-frame-options')).toBe('SAMEORIGIN');
  });

  it('rate-limits /api per client and says how much is left', async () => {
    const first = await api(daemon, 'GET', '/api/cron/jobs', { token: alice });
    const second = await api(daemon, 'GET', '/api/cron/jobs', { token: alice });
    expect(first.headers.get('x-ratelimit-limit')).toBe('3000');
    expect(Number(second.headers.get('x-ratelimit-remaining'))).toBe(Number(first.headers.get('x-ratelimit-remaining')) - 1);
    expect((await api(daemon, 'GET', '/health')).headers.get('x-ratelimit-limit')).toBeNull();
  });
});
