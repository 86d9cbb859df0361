import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const SCENARIOS = ['lateness', 'throughput', 'flood', 'scale', 'nodes'];

interface BenchRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `node bench/run.mjs --smoke` against the built daemon in dist/ (npm test builds first). */
function runSmokeBench(outDir: string): Promise<BenchRun> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [resolve('bench/run.mjs'), '--smoke', '--out', outDir],
      { env: process.env, maxBuffer: 16 * 1024 * 1024, timeout: 300_000 },
      (error, stdout, stderr) => done({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('the benchmark harness in smoke mode', () => {
  let outDir: string;
  let run: BenchRun;
  let report: { mode: string; machine: { pageFaultMicros: number }; scenarios: Record<string, Record<string, unknown>>; table: Array<{ status: string }> };

  beforeAll(async () => {
    outDir = await mkdtemp(join(tmpdir(), 'cw-bench-smoke-'));
    run = await runSmokeBench(outDir);
    const files = (await readdir(outDir)).filter((name) => name.endsWith('.json'));
    if (files.length === 1) report = JSON.parse(await readFile(join(outDir, files[0]), 'utf8'));
  }, 310_000);

  afterAll(async () => {
    await rm(outDir, { recursive: true, force: true });
  });

  it('exits 0 and prints the table', () => {
    expect({ code: run.code, stderr: run.code === 0 ? '' : run.stderr }).toEqual({ code: 0, stderr: '' });
    expect(run.stdout).toMatch(/scenario\s+db\s+metric/);
  });

  it('writes one JSON report with every scenario measured, none failed', () => {
    expect(report.mode).toBe('smoke');
    expect(Object.keys(report.scenarios).sort()).toEqual([...SCENARIOS].sort());
    for (const name of SCENARIOS) expect({ name, error: report.scenarios[name].error }).toEqual({ name, error: undefined });
    // Without DATABASE_URL the nodes scenario says why it did not run; every other one has figures.
    for (const name of SCENARIOS.filter((name) => name !== 'nodes')) expect(report.scenarios[name].databases).toBeDefined();
  });

  it("records what a page fault costs on the machine, which every spawn's cost follows", () => {
    expect(report.machine.pageFaultMicros).toBeGreaterThan(0);
  });

  it('names every statement it counted, prepared ones by the text they were prepared with', () => {
    const statements = report.scenarios.throughput.statements as { skipped?: string; perRun: { statements: number }; byStatementPerRun: Record<string, number> };
    if (!process.env.DATABASE_URL) return void expect(statements.skipped).toMatch(/PostgreSQL only/);
    const named = Object.values(statements.byStatementPerRun).reduce((sum, perRun) => sum + perRun, 0);
    // Rounded to hundredths each: the parts add up to the total within the rounding.
    expect(Math.abs(named - statements.perRun.statements)).toBeLessThan(0.1);
    expect(Object.keys(statements.byStatementPerRun).some((sql) => sql.startsWith('WITH run AS ( INSERT INTO cw_runs'))).toBe(true);
  });

  it('judges no target in smoke mode', () => {
    expect(report.table.length).toBeGreaterThan(0);
    expect(new Set(report.table.map((line) => line.status))).toEqual(new Set(['—']));
  });
});
