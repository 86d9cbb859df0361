import { spawn } from 'node:child_process';
import { ResourceSampler, parseStat } from './resource-sampler.js';

describe('parseStat', () => {
  it('reads the process group, CPU ticks and RSS pages even when the command name holds spaces and parentheses', () => {
    // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime … rss is field 24
    const line = '4242 (my (odd) cmd) S 1 4240 4240 0 -1 4194304 100 0 0 0 250 50 7 3 20 0 1 0 12345 104857600 2560 18446744073709551615';
    expect(parseStat(line)).toEqual({ pgrp: 4240, ticks: 250 + 50 + 7 + 3, rssPages: 2560 });
  });

  it('ignores text that is not a stat line', () => {
    expect(parseStat('')).toBeNull();
  });
});

describe('ResourceSampler', () => {
  it('has figures for a run shorter than its sampling period, from the leader sampled as the run starts', async () => {
    const sampler = new ResourceSampler();
    // Its own process group, as a run's command is; it allocates 50 MiB and stays a moment.
    const child = spawn(process.execPath, ['-e', 'globalThis.keep = Buffer.alloc(50 * 1024 * 1024, 1); setTimeout(() => {}, 1000)'], { detached: true, stdio: 'ignore' });
    await new Promise((resolve) => setTimeout(resolve, 500));
    try {
      const release = sampler.track(child.pid!);
      await new Promise((resolve) => setTimeout(resolve, 100));
      const use = release();
      expect(use.peakRssBytes).toBeGreaterThan(50 * 1024 * 1024);
      expect(use.cpuSeconds).toBeGreaterThan(0);
    } finally {
      child.kill('SIGKILL');
      sampler.onModuleDestroy();
    }
  });
});
