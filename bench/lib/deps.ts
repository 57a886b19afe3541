// Optional benchmark dependencies (TensorFlow.js) are resolved from the repository's
// node_modules, or from the folder named by BENCH_DEPS (a folder holding node_modules/), so
// that they can be tried without touching package.json. Returns null when absent.

import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

export function resolveDep(name: string): string | null {
  const roots = [repoRoot, process.env.BENCH_DEPS].filter((d): d is string => !!d);
  for (const root of roots) {
    try {
      return createRequire(join(root, 'package.json')).resolve(name);
    } catch {
      // try the next root
    }
  }
  return null;
}

export async function importDep<T = any>(name: string): Promise<T | null> {
  const path = resolveDep(name);
  if (!path) return null;
  const mod = await import(pathToFileURL(path).href);
  return (mod.default ?? mod) as T;
}
