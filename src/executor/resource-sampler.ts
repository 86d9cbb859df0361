import { readdir, readFile } from 'node:fs/promises';
import { Injectable, type OnModuleDestroy } from '@nestjs/common';

/** What a run's processes used, sampled from /proc while it ran. */
export interface ResourceUse {
  /** The largest total resident memory of the run's process group at any sample, in bytes. */
  peakRssBytes: number;
  /** CPU time (user + system, reaped children included) of the group at the last sample, in seconds. */
  cpuSeconds: number;
}

const SAMPLE_MS = 500;
const PAGE_BYTES = 4_096;
// USER_HZ: the kernel reports times in 1/100 s on every Linux architecture Node supports.
const TICKS_PER_SECOND = 100;

interface Tracked {
  peakRssBytes: number;
  cpuTicks: number;
}

/**
 * Samples the resource use of running process groups: one scan of /proc every 500 ms for all runs
 * on this node, whatever their number, and each group's leader as it starts. On systems without
 * /proc the figures stay 0.
 */
@Injectable()
export class ResourceSampler implements OnModuleDestroy {
  private readonly groups = new Map<number, Tracked>();
  private timer: NodeJS.Timeout | null = null;
  private scanning = false;

  /** Starts sampling the process group led by `pgid`; call the returned function when the run ends. */
  track(pgid: number): () => ResourceUse {
    const tracked = { peakRssBytes: 0, cpuTicks: 0 };
    this.groups.set(pgid, tracked);
    this.timer ??= setInterval(() => void this.scan(), SAMPLE_MS);
    // The leader at once, so a run shorter than a sample period has figures too. One file: a scan
    // of all of /proc for every run that starts was a fifth of the daemon's CPU at 30 runs/s.
    void this.sampleLeader(pgid, tracked);
    return () => {
      this.groups.delete(pgid);
      if (this.groups.size === 0 && this.timer) {
        clearInterval(this.timer);
        this.timer = null;
      }
      return { peakRssBytes: tracked.peakRssBytes, cpuSeconds: tracked.cpuTicks / TICKS_PER_SECOND };
    };
  }

  onModuleDestroy(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private async sampleLeader(pgid: number, tracked: Tracked): Promise<void> {
    const stat = parseStat(await readFile(`/proc/${pgid}/stat`, 'utf8').catch(() => ''));
    if (!stat || stat.pgrp !== pgid) return;
    tracked.peakRssBytes = Math.max(tracked.peakRssBytes, stat.rssPages * PAGE_BYTES);
    tracked.cpuTicks = Math.max(tracked.cpuTicks, stat.ticks);
  }

  private async scan(): Promise<void> {
    if (this.scanning || this.groups.size === 0) return;
    this.scanning = true;
    try {
      const totals = new Map<number, { rss: number; ticks: number }>();
      for (const entry of await readdir('/proc').catch(() => [] as string[])) {
        if (!/^\d+$/.test(entry)) continue;
        const stat = parseStat(await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => ''));
        if (!stat || !this.groups.has(stat.pgrp)) continue;
        const total = totals.get(stat.pgrp) ?? { rss: 0, ticks: 0 };
        total.rss += stat.rssPages * PAGE_BYTES;
        total.ticks += stat.ticks;
        totals.set(stat.pgrp, total);
      }
      for (const [pgid, total] of totals) {
        const tracked = this.groups.get(pgid);
        if (!tracked) continue;
        tracked.peakRssBytes = Math.max(tracked.peakRssBytes, total.rss);
        tracked.cpuTicks = Math.max(tracked.cpuTicks, total.ticks);
      }
    } finally {
      this.scanning = false;
    }
  }
}

/** The fields of /proc/<pid>/stat we need; the command name may hold spaces and parentheses, so split after its last ')'. */
export function parseStat(text: string): { pgrp: number; ticks: number; rssPages: number } | null {
  const end = text.lastIndexOf(')');
  if (end < 0) return null;
  // Fields after the name, numbered from 3 (state) as in proc(5).
  const fields = text.slice(end + 2).split(' ');
  const field = (n: number) => Number(fields[n - 3]);
  return { pgrp: field(5), ticks: field(14) + field(15) + field(16) + field(17), rssPages: field(24) };
}
