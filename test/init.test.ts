// init({ wasm }): a module handed in says which build it is (its FEATURES export), options that
// name another build are refused, and every way such a module or its URL can be wrong gives a
// NaluError that says so, leaving the engine of the last good init in place.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runInNewContext } from 'node:vm';
import { afterAll, describe, expect, it } from 'vitest';
import { init, nac, NaluError, sequential } from '../src/index';
import type { ThreadSpawner } from '../src/wasm/engine';
import { makeInit } from '../src/wasm/init';
import { loadFromUrl } from '../src/wasm/load-fetch';
import './helpers'; // enables relaxed SIMD on Node 20 (v8 flag), as for the other tests
import { relaxedSimdSupported } from '../src/wasm/probe';

const fileOf = (build: string) => new URL(`../build/nalu-${build}.wasm`, import.meta.url);
const bytesOf = (build: string) => readFileSync(fileOf(build));

/** A module with one import, which init cannot provide. */
const NEEDS_AN_IMPORT = Uint8Array.of(
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  0x01, 0x04, 0x01, 0x60, 0x00, 0x00, // one type: () -> ()
  0x02, 0x07, 0x01, 0x01, 0x6d, 0x01, 0x66, 0x00, 0x00, // import "m" "f", a function of that type
);

afterAll(() => init());

describe('init() called again before an earlier call is done', () => {
  it('the last call made decides the engine of new models, whichever finishes first', async () => {
    const threadsOfNew = () => {
      const m = sequential([nac({ inputs: 1, outputs: 1 })]);
      const threads = (m as unknown as { engine: { threads: number } }).engine.threads;
      m.dispose();
      return threads;
    };
    for (const [first, last] of [[{ threads: 2 }, {}], [{}, { threads: 2 }]] as const) {
      const [, info] = await Promise.all([init(first), init(last)]);
      expect(threadsOfNew()).toBe(info.threads);
      expect(info.threads).toBe(last.threads ?? 1);
    }
  });
});

describe('init({ wasm })', () => {
  it.each([['simd'], ['scalar'], ...(relaxedSimdSupported() ? [['relaxed']] : [])])('names the build it was given: %s', async (build) => {
    const info = await init({ wasm: bytesOf(build) });
    expect(info).toEqual({ backend: build, threads: 1 });
    expect(sequential([nac({ inputs: 1, outputs: 1 })]).backend).toBe(build);
  });

  it('takes the bytes in any view, a DataView too', async () => {
    const bytes = new Uint8Array(bytesOf('scalar'));
    expect(await init({ wasm: new DataView(bytes.buffer) })).toEqual({ backend: 'scalar', threads: 1 });
    const padded = new Uint8Array(bytes.length + 8);
    padded.set(bytes, 8);
    expect(await init({ wasm: new DataView(padded.buffer, 8, bytes.length) })).toEqual({ backend: 'scalar', threads: 1 });
  });

  it('reads a file: URL (Node, whose fetch cannot), as a URL or a string', async () => {
    expect(await init({ wasm: fileOf('scalar') })).toEqual({ backend: 'scalar', threads: 1 });
    expect(await init({ wasm: fileOf('simd').href })).toEqual({ backend: 'simd', threads: 1 });
  });

  it.each([
    ['options that name another build', () => ({ wasm: bytesOf('scalar'), simd: true }),
      /^init: the module passed as wasm is the scalar build, but the options ask for \{"simd":true\}$/],
    ['simd: false with the SIMD build', () => ({ wasm: bytesOf('simd'), simd: false }),
      /^init: the module passed as wasm is the simd build, but the options ask for \{"simd":false\}$/],
    ['relaxed: true with the SIMD build', () => ({ wasm: bytesOf('simd'), relaxed: true }),
      relaxedSimdSupported() ? /^init: the module passed as wasm is the simd build, but the options ask for \{"relaxed":true\}$/ : /^init: relaxed: true needs WebAssembly relaxed SIMD/],
    ['bytes that start as Wasm and go on as garbage', () => ({ wasm: Uint8Array.of(0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 0xff) }),
      /^init: the bytes passed to init is not a valid WebAssembly module for this engine: /],
    ['a valid module that is not nalu-wasm', () => ({ wasm: Uint8Array.of(0, 0x61, 0x73, 0x6d, 1, 0, 0, 0) }),
      /^init: the module is not a build of nalu-wasm: it does not export H_NLAYERS$/],
    ['a module that needs imports', () => ({ wasm: NEEDS_AN_IMPORT }), /^init: the module cannot be instantiated: /],
    ['a string that is not a URL', () => ({ wasm: 'not a url' }), /^init: cannot load the wasm module from not a url: .* \(a file path\? pass pathToFileURL\(path\) from node:url\)$/],
    ['a Windows file path', () => ({ wasm: 'C:\\x\\nalu-simd.wasm' }), /\(a file path\? pass pathToFileURL\(path\) from node:url\)$/],
    ['a file path', () => ({ wasm: 'node_modules/nalu-wasm/dist/nalu-simd.wasm' }), /^init: cannot load the wasm module from node_modules\/nalu-wasm\/dist\/nalu-simd\.wasm: .* \(a file path\? pass pathToFileURL\(path\) from node:url\)$/],
    ['a URL as the options instead of { wasm }', () => fileOf('simd'),
      /^init: options must be a plain object, got a URL; a module, its bytes or URL go in init\(\{ wasm \}\)$/],
    ['a file: URL of no file', () => ({ wasm: new URL('file:///nonexistent/nalu.wasm') }),
      /^init: cannot load the wasm module from file:\/\/\/nonexistent\/nalu\.wasm: ENOENT/],
    ['bytes whose buffer was transferred', () => {
      const bytes = new Uint8Array(bytesOf('simd'));
      structuredClone(bytes.buffer, { transfer: [bytes.buffer] });
      return { wasm: bytes };
    }, /^init: the bytes passed to init cannot be read \(.+\): a transferred \(detached\) buffer\?$/],
    ['a Response whose body was read', () => {
      const res = new Response(new Uint8Array(bytesOf('simd')));
      void res.arrayBuffer();
      return { wasm: res };
    }, /^init: the Response passed as wasm has been read already: pass a fresh one, or the bytes$/],
    ['a promise of something else than a Response', () => ({ wasm: Promise.resolve(1) as never }),
      /^init: the promise passed as wasm resolved to 1, not a Response$/],
  ])('refuses %s with a NaluError, and the last engine stays', async (_name, options, message) => {
    await init({ wasm: bytesOf('scalar') });
    const before = sequential([nac({ inputs: 2, outputs: 1 })], { seed: 1 });
    const failed = init(options() as Parameters<typeof init>[0]);
    await expect(failed).rejects.toBeInstanceOf(NaluError);
    await expect(failed).rejects.toThrow(message);
    const after = sequential([nac({ inputs: 2, outputs: 1 })], { seed: 1 });
    expect(after.backend).toBe('scalar');
    expect(Array.from(after.predict([1, 2]))).toEqual(Array.from(before.predict([1, 2])));
  });

  it("says what to do when a server answers with a page instead of the module, naming Vite's pre-bundling where the URL shows it", async () => {
    const { createServer } = await import('node:http');
    const server = createServer((_req, res) => res.writeHead(200, { 'Content-Type': 'text/html' }).end('<!doctype html><html></html>'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    try {
      await expect(init({ wasm: `http://127.0.0.1:${port}/node_modules/.vite/deps/nalu-simd.wasm` })).rejects.toThrow(
        /^init: http:\/\/127\.0\.0\.1:\d+\/node_modules\/\.vite\/deps\/nalu-simd\.wasm \(Content-Type text\/html\) is not a WebAssembly module \(it starts with "<!do"\): Vite's dev server pre-bundled nalu-wasm, away from its \.wasm files: add optimizeDeps: \{ exclude: \['nalu-wasm'\] \} to the Vite config; or pass init\(\{ wasm \}\) the URL/);
      await expect(init({ wasm: `http://127.0.0.1:${port}/assets/nalu-simd.wasm` })).rejects.toThrow(
        /is not a WebAssembly module \(it starts with "<!do"\): a server or dev server may have answered with another file; or pass init\(\{ wasm \}\) the URL of one of the package's nalu-\*\.wasm files$/);
    } finally {
      server.close();
    }
    await init();
  });

  it('takes a plain options object made in another realm (node:vm), and refuses bytes given as the options', async () => {
    expect(await init(runInNewContext('({ simd: false })') as Parameters<typeof init>[0])).toEqual({ backend: 'scalar', threads: 1 });
    await expect(init(new Uint8Array(bytesOf('simd')) as never)).rejects.toThrow(/^init: options must be a plain object, got a Uint8Array; /);
    await init();
  });

  it("the fetch loader (browsers, Deno) turns a failed fetch into a NaluError naming the file (Node's fetch refuses file: URLs)", async () => {
    const failed = loadFromUrl('simd');
    await expect(failed).rejects.toBeInstanceOf(NaluError);
    await expect(failed).rejects.toThrow(/^init: cannot load file:\/\/\/.*\/nalu-simd\.wasm \(.+\): a bundle needs ESM output and nalu-wasm\/dist\/\*\.wasm beside it, or init\(\{ wasm \}\)$/);
  });

  it('a host that refuses to read the module (Node\'s permission model) is named without the bundler advice', () => {
    const dist = fileURLToPath(new URL('../dist/', import.meta.url));
    if (!existsSync(join(dist, 'index.js'))) return; // npm test builds dist/ first
    const script = `const N = await import(${JSON.stringify(join(dist, 'index.js'))}); await N.init().then(() => console.log('loaded'), (e) => console.log(e.name, e.message));`;
    // the package's JavaScript may be read, its .wasm files not
    const read = readdirSync(dist).filter((f) => f.endsWith('.js')).map((f) => `--allow-fs-read=${join(dist, f)}`);
    const out = execFileSync(process.execPath, ['--experimental-permission', ...read, '--input-type=module', '-e', script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    expect(out).toMatch(/^NaluError init: cannot load file:\/\/\/.*\/nalu-simd\.wasm \(Access to this API has been restricted\)$/);
  });

  it('an uncaught error of the built package prints a few lines, not the bundle (init() not awaited)', () => {
    const dist = fileURLToPath(new URL('../dist/', import.meta.url));
    if (!existsSync(join(dist, 'index.js'))) return; // npm test builds dist/ first
    // Node prints the source line of the throw above the message: the bundle's lines must be short
    const script = `const N = await import(${JSON.stringify(join(dist, 'index.js'))}); N.init(); N.sequential([N.nau({ inputs: 2, outputs: 1 })]);`;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('NaluError: sequential: nalu-wasm is not initialised: call and await init() first');
    expect(run.stderr.split('\n').every((line) => line.length <= 200)).toBe(true);
  });

  it.runIf(relaxedSimdSupported())('starts no worker thread for a threads module whose build the options contradict', async () => {
    let spawned = 0;
    const spawner: ThreadSpawner = async () => {
      spawned++;
      return () => undefined;
    };
    const initWith = makeInit(() => Promise.reject(new Error('only wasm is passed here')), async () => spawner, () => Promise.reject(new Error('no files here')));
    await expect(initWith({ wasm: bytesOf('threads'), threads: 2, relaxed: true }))
      .rejects.toThrow(/^init: the module passed as wasm is the simd build, but the options ask for \{"relaxed":true\}$/);
    expect(spawned).toBe(0);
    // the spawner is the one init uses: without the contradiction it is called (its pool is never used)
    expect(await initWith({ wasm: bytesOf('threads'), threads: 2 })).toEqual({ backend: 'simd', threads: 2 });
    expect(spawned).toBe(1);
    await init();
  });
});
