/** Runs a baseline script from bench/baselines in its own bare Node process and returns its JSON line. */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** `node bench/baselines/<script> ...args`, parsed; rejects with the script's error. */
export function runBaseline(script, args = []) {
  const file = fileURLToPath(new URL(`../baselines/${script}`, import.meta.url));
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [file, ...args.map(String)], { maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const line = stdout.trim().split('\n').pop() ?? '';
      let parsed = null;
      try {
        parsed = JSON.parse(line);
      } catch {
        // Reported below with the script's stderr.
      }
      if (error || !parsed || parsed.error) reject(new Error(`${script} ${args.join(' ')} failed: ${parsed?.error ?? error?.message ?? ''} ${stderr}`));
      else resolve(parsed);
    });
  });
}

/**
 * Raw spawn of `count` × /bin/true at `concurrency` in flight, after `warmup` uncounted ones.
 * Measured right before the figure it is compared with: on a shared machine the load drifts
 * within minutes.
 */
export function rawSpawn(count, concurrency, { warmup = 0 } = {}) {
  return runBaseline('raw-spawn.mjs', ['--count', count, '--concurrency', concurrency, '--warmup', warmup]);
}
