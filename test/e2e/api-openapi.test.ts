import { buildOpenApiDocument } from '../../src/openapi.js';
import { createTestStore, FIXTURES, startTestDaemon, type TestDaemon, type TestStore } from '../support/daemon.js';

type Operation = { security?: Array<Record<string, unknown>>; responses: Record<string, { content?: Record<string, { schema?: unknown }> }> };

const ROUTES: Array<[string, string]> = [
  ['get', '/api/cron/jobs'], ['post', '/api/cron/jobs'], ['get', '/api/cron/jobs/{id}'], ['patch', '/api/cron/jobs/{id}'],
  ['delete', '/api/cron/jobs/{id}'], ['post', '/api/cron/jobs/{id}/pause'], ['post', '/api/cron/jobs/{id}/resume'],
  ['post', '/api/cron/jobs/{id}/trigger'], ['get', '/api/cron/jobs/{id}/next'], ['get', '/api/cron/jobs/{id}/runs'],
  ['get', '/api/cron/runs'], ['get', '/api/cron/runs/{id}'], ['get', '/api/cron/runs/{id}/output'],
  ['get', '/api/cron/runs/{id}/output/stream'], ['post', '/api/cron/runs/{id}/cancel'],
  ['get', '/api/cron/pipelines'], ['post', '/api/cron/preview'], ['get', '/api/cron/audit'],
];

describe('the OpenAPI document of the real app', () => {
  let store: TestStore;
  let daemon: TestDaemon;
  let document: ReturnType<typeof buildOpenApiDocument>;

  beforeAll(async () => {
    store = await createTestStore('pglite');
    daemon = await startTestDaemon(store, `pipelines:\n  ok:\n    command: ["${FIXTURES}/exit-0.sh"]\n`);
    document = buildOpenApiDocument(daemon.daemon.app, '0.0.0-test');
  });
  afterAll(async () => {
    await daemon?.close();
    await store?.dispose();
  });

  const operation = (method: string, path: string) => (document.paths[path] as Record<string, Operation> | undefined)?.[method];

  it('declares bearer (JWT) auth', () => {
    expect(document.components?.securitySchemes?.bearer).toMatchObject({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
  });

  it.each(ROUTES)('documents %s %s with bearer auth, its answer and its errors', (method, path) => {
    const op = operation(method, path);
    expect(op).toBeDefined();
    expect(op!.security).toEqual([{ bearer: [] }]);
    expect(Object.keys(op!.responses)).toEqual(expect.arrayContaining(['401', '403', '429']));
    const success = Object.entries(op!.responses).find(([status]) => status.startsWith('2'));
    expect(success).toBeDefined();
    if (success![0] !== '204') expect(Object.values(success![1].content ?? {})[0]?.schema).toBeDefined();
    expect(op!.responses['401'].content?.['application/json']?.schema).toEqual({ $ref: '#/components/schemas/ErrorResponse' });
  });

  it('documents every /api operation of the app, not only the listed ones, with its answer and its errors', () => {
    const all = Object.entries(document.paths).filter(([path]) => path.startsWith('/api/'))
      .flatMap(([path, item]) => Object.keys(item as object).map((method) => [method, path] as [string, string]));
    expect(all.length).toBeGreaterThan(ROUTES.length);
    for (const [method, path] of all) {
      const op = operation(method, path)!;
      const success = Object.entries(op.responses).find(([status]) => status.startsWith('2'));
      expect({ route: `${method} ${path}`, errors: Object.keys(op.responses).filter((s) => ['401', '403', '429'].includes(s)).sort(), success: Boolean(success) })
        .toEqual({ route: `${method} ${path}`, errors: ['401', '403', '429'], success: true });
    }
  });

  it('describes the request bodies with their constraints', () => {
    const schemas = document.components?.schemas as Record<string, { required?: string[]; properties: Record<string, Record<string, unknown>> }>;
    expect(schemas.CreateJobDto.required).toEqual(['pipeline']);
    expect(schemas.CreateJobDto.properties.overlap.enum).toEqual(['skip', 'queue', 'allow', 'replace']);
    expect(Object.keys(schemas.UpdateJobDto.properties)).not.toContain('id');
    expect(Object.keys(schemas.JobResponse.properties)).toEqual(expect.arrayContaining(['id', 'cron', 'every', 'nextRunAt', 'lastRun']));
    expect(schemas.ErrorResponse.properties.field).toBeDefined();
    const create = operation('post', '/api/cron/jobs')!;
    expect(Object.keys(create.responses)).toEqual(expect.arrayContaining(['201', '400', '409', '413']));
  });
});
