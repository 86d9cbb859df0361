#!/usr/bin/env node
// An example pipeline: reads its input from JOB_INPUT, prints progress, exits 0.
// Point `pipelines.main.command` in config/cronwarden.yaml at your own program instead.
const input = JSON.parse(process.env.JOB_INPUT ?? '{}');
const steps = ['fetch sources', 'transcode video', 'render thumbnails', 'publish'];
const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

console.log(`main pipeline: run ${process.env.CRONWARDEN_RUN_ID} (${process.env.CRONWARDEN_TRIGGER}), input ${JSON.stringify(input)}`);
for (const [index, step] of steps.entries()) {
  console.log(`::progress ${Math.round((index / steps.length) * 100)} ${step}`);
  await pause(Number(input.stepMs ?? 200));
}
console.log('::progress 100 done');
console.log('main pipeline: finished');
