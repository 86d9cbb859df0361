import { gunzipSync } from 'node:zlib';
import { GZIP_FROM_BYTES, PreparedJson } from './prepared-json.js';

describe('PreparedJson', () => {
  it('keeps a gzipped copy of a body long enough to gain from it, and counts both in its size', async () => {
    const value = { items: Array.from({ length: 50 }, (_, i) => ({ id: `job_${i}`, cron: '0 */5 * * *', paused: false })) };
    const prepared = await PreparedJson.of(value);
    expect(prepared.text).toBe(JSON.stringify(value));
    expect(prepared.body.length).toBeGreaterThanOrEqual(GZIP_FROM_BYTES);
    expect(gunzipSync(prepared.gzipped!).equals(prepared.body)).toBe(true);
    expect(prepared.gzipped!.length).toBeLessThan(prepared.body.length / 4);
    expect(prepared.byteLength).toBe(prepared.body.length + prepared.gzipped!.length);
  });

  it('sends a short body only as it is', async () => {
    const prepared = await PreparedJson.of({ items: [], nextCursor: null });
    expect(prepared.gzipped).toBeNull();
    expect(prepared.byteLength).toBe(prepared.body.length);
  });
});
