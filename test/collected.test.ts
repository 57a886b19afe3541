// Models, samplers and staged batches dropped without dispose() give their linear memory back
// once the garbage collector has them (test/fixtures/collected.ts, in a process of its own under --expose-gc),
// and a model that one of its staged batches still reaches keeps its memory.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

it('the garbage collector frees what undisposed models, samplers and batches held, and nothing a batch still reaches', () => {
  const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', 'test/fixtures/collected.ts'], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`the script ended with ${r.signal ? `signal ${r.signal}` : `exit code ${r.status}`}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  const o = JSON.parse(r.stdout) as { liveAtStart: number; liveAtEnd: number; memoryMiB: number; keptPrediction: number[]; keptAfter: number[]; keptBatchLive: boolean;
    stagedLiveGrowth: number; stagedMemoryMiB: number; smallPrediction: number[]; smallAfter: number[]; smallDisposedWithModel: boolean };
  // 400 models and 400 samplers made, 4.8 GB in all: at most the last few are still reachable
  expect(o.liveAtEnd - o.liveAtStart).toBeLessThanOrEqual(4);
  expect(o.memoryMiB).toBeLessThan(2048);
  expect(o.keptBatchLive).toBe(true);
  expect(o.keptAfter).toEqual(o.keptPrediction);
  // 400 batches of 16 MB staged by one model that lives on, 6.4 GB in all: the dropped ones freed
  expect(o.stagedLiveGrowth).toBeLessThanOrEqual(2);
  expect(o.stagedMemoryMiB).toBeLessThan(2048);
  expect(o.smallAfter).toEqual(o.smallPrediction);
  expect(o.smallDisposedWithModel).toBe(true);
}, 120_000);
