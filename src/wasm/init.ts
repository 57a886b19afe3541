import { checkBool, checkInt, checkKeys, describe, fail, isPlainObject } from '../errors.js';
import { Engine, ThreadsRefused, type ThreadSpawner } from './engine.js';
import { buildOf, type Backend, type Build } from './exports.js';
import { relaxedSimdSupported, simdSupported } from './probe.js';

declare global {
  // The declarations name WebAssembly.Module, URL and Response; a project without the DOM lib
  // (Node's types lack WebAssembly) or without any (workerd's types left out) gets these empty
  // interfaces, which merge with the DOM lib's or Node's where they are present.
  namespace WebAssembly { interface Module {} }
  interface URL {}
  interface Response {}
}

/** Where the module's bytes come from: anything `init({ wasm })` accepts. */
export type WasmSource = WebAssembly.Module | ArrayBuffer | ArrayBufferView | URL | string | Response | Promise<Response>;

/** Obtains the compiled module of a build, the way the current runtime allows. */
export type ModuleLoader = (build: Build) => Promise<WebAssembly.Module>;

/** What init() takes; every option may be left out. */
export interface InitOptions {
  /** Force the SIMD build (true) or the scalar build (false); default: SIMD when supported. */
  simd?: boolean | undefined;
  /**
   * Opt in to the relaxed-SIMD build: the matrix products use fused multiply-add where the CPU
   * has it (11-19% faster on large layers on an Intel Xeon, no faster on an AMD EPYC). Its results
   * differ from the default builds in the last bits and may differ between engines and CPUs.
   * Needs an engine with relaxed SIMD (Node 22+, or Node 20 started with
   * --experimental-wasm-relaxed-simd; Deno; Bun; Chrome 114+; Firefox); default false.
   */
  relaxed?: boolean | undefined;
  /**
   * Threads that share each large matrix product (1 to 8; default 1). In Node, Deno and Bun they
   * are worker threads (node:worker_threads) over shared memory running the SIMD build (or the
   * relaxed one, with relaxed: true); in browsers, Web Workers on a cross-origin isolated page;
   * elsewhere one thread runs and InitInfo says so (threads, and threadsUnavailable: why).
   * Results are bit-identical whatever
   * the number of threads. If a worker fails, the call that used it throws and changes nothing;
   * that instance's models carry on, on one thread, and the next init with threads starts a new
   * pool.
   */
  threads?: number | undefined;
  /**
   * The module of a build, or its bytes, URL (in Node, a file: URL is read from disk; a string is
   * a URL too, not a file path: pass pathToFileURL(path)) or Response, for bundlers and hosts; it
   * is instantiated anew by each call. The module says which build it is (InitInfo.backend);
   * `simd` or `relaxed` options that name another build throw. With threads, the next init ends
   * that instance's worker threads: the models made on it carry on, on one thread, with the same
   * results.
   */
  wasm?: WasmSource | undefined;
}

/** What init() resolves to: the build in use and its threads. */
export interface InitInfo {
  /** The build that runs: 'simd', 'scalar' or 'relaxed'. */
  backend: Backend;
  /** Threads in use: `threads` as asked where the host allows them, else 1. */
  threads: number;
  /**
   * Why one thread runs where more were asked for (absent when they run, or one was asked for):
   * an engine without SIMD, a runtime without worker threads (workerd), a page that is not
   * cross-origin isolated, or the host's refusal to start them (its reason; a host whose policy
   * refused them is not asked again by this package instance, a worker slow to start is).
   */
  threadsUnavailable?: string;
}

/** Why a page gets no threads without cross-origin isolation, and the two headers that give it. */
export const NOT_ISOLATED = 'browsers share memory with workers only on a cross-origin isolated page (served with ' +
  'Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp or credentialless)';

/** The threads of a pooled engine and what starts them. */
type Pool = { threads: number; spawner: ThreadSpawner };

/** The most threads a pool may have (POOL_MAX in assembly/pool.ts). */
export const MAX_THREADS = 8;

let current: Engine | undefined;
/** A packaged build's engine: the promise, and the engine once made (a pool may take seconds to start). */
type EngineEntry = { engine: Promise<Engine>; made?: Engine };
/** The packaged builds' engines, by build and threads. */
const engines = new Map<string, EngineEntry>();
/** The engine made from the caller's module by the last init, if it was; it is never reused. */
let provided: Engine | undefined;
/** init() calls made so far: the last one made, not the last to finish, sets `current`. */
let initCalls = 0;

/** The engine that new models use; before `init()`, throws an error that names the call (`what`). */
export function currentEngine(what: string): Engine {
  if (!current) fail(`${what}: nalu-wasm is not initialised: call and await init() first`);
  return current;
}

/**
 * The init() of an entry: `loader` obtains a build's module; `importSpawner`, where the runtime has
 * threads that share memory (Node, Deno, Bun, browsers), imports what starts the pool's worker
 * threads (a module loaded only when threads are asked for); `readFile` reads file: URLs where
 * fetch cannot (Node).
 */
export function makeInit(loader: (backend: Backend) => Promise<WebAssembly.Module>): (options?: InitOptions) => Promise<InitInfo>;
export function makeInit(loader: ModuleLoader, importSpawner: () => Promise<ThreadSpawner>, readFile?: FileReader): (options?: InitOptions) => Promise<InitInfo>;
export function makeInit(loader: ModuleLoader | ((backend: Backend) => Promise<WebAssembly.Module>), importSpawner?: () => Promise<ThreadSpawner>,
  readFile?: FileReader): (options?: InitOptions) => Promise<InitInfo> {
  const load = loader as ModuleLoader; // asked for 'threads' only with a spawner
  const spawner: ThreadSpawner | undefined = importSpawner && (async (...args) => (await importSpawner())(...args));
  /** Why the host refused to start worker threads for good (ThreadsRefused.lasting): they are not asked for again. */
  let refused: string | undefined;
  /** The engine of a packaged build, made once and kept (but a pool that lost a worker). */
  const packagedEngine = async (build: Build, pool: Pool | undefined): Promise<Engine> => {
    const key = `${build}:${pool?.threads ?? 1}`;
    let entry = engines.get(key);
    // an engine whose pool lost a worker runs on one thread now: its models keep it, init makes another
    if (entry && pool && (await entry.engine).threads < pool.threads) entry = undefined;
    if (!entry) {
      const created: EngineEntry = { engine: load(build).then((module) => Engine.create(module, pool)) };
      engines.set(key, entry = created);
      created.engine.then((e) => { created.made = e; }, () => engines.get(key) === created && engines.delete(key));
    }
    return entry.engine;
  };
  return async function init(options: InitOptions = {}): Promise<InitInfo> {
    // a URL, module, bytes or Response given as the options, say (a plain object of another realm is taken)
    if (!isPlainObject(options as unknown)) fail(`init: options must be a plain object, got ${describe(options)}; a module, its bytes or URL go in init({ wasm })`);
    options = checkKeys<InitOptions>('init', options, ['simd', 'relaxed', 'threads', 'wasm']); // each read once
    const call = ++initCalls;
    for (const key of ['simd', 'relaxed'] as const) checkBool(`init: ${key}`, options[key]);
    const supported = simdSupported();
    if (options.simd === true && !supported) fail('init: simd was forced but this engine does not support WebAssembly SIMD');
    if (options.relaxed === true) {
      if (options.simd === false) fail('init: relaxed: true is a SIMD build; it cannot be combined with simd: false');
      if (!relaxedSimdSupported()) {
        fail('init: relaxed: true needs WebAssembly relaxed SIMD, which this engine does not support ' +
          '(Node 20: start node with --experimental-wasm-relaxed-simd; Node 22+, Deno, Bun, Chrome 114+ and Firefox have it)');
      }
    }
    const backend: Backend = options.relaxed === true ? 'relaxed' : (options.simd ?? supported) ? 'simd' : 'scalar';
    const asked = options.threads === undefined ? 1 : checkInt('init: threads', options.threads, 1, MAX_THREADS);
    if (asked > 1 && options.simd === false) fail('init: threads run a SIMD build; they cannot be combined with the scalar build');
    // one thread where the host has none to give, or the engine no SIMD (the scalar build)
    let unavailable = asked === 1 ? undefined : backend === 'scalar' ? 'threads run a SIMD build, and this engine has no WebAssembly SIMD'
      : !spawner ? 'this runtime starts no worker threads'
      : typeof SharedArrayBuffer !== 'function' ? `SharedArrayBuffer is not available: ${NOT_ISOLATED}` : refused;
    let threads = unavailable === undefined ? asked : 1;
    const pool = threads > 1 ? { threads, spawner: spawner! } : undefined;
    let made: Engine;
    if (options.wasm !== undefined) {
      // A module handed in is the caller's: instantiate it each time, caching nothing.
      const module = await compileSource(options.wasm, readFile);
      const importsMemory = WebAssembly.Module.imports(module).some((i) => i.kind === 'memory');
      if (importsMemory !== (pool !== undefined)) {
        fail(`init: the module passed as wasm ${importsMemory ? 'is' : 'is not'} a threads build (nalu-threads.wasm, nalu-relaxed-threads.wasm), ` +
          `but ${pool ? `threads: ${threads} was asked for` : asked > 1 ? `this host runs one thread (${unavailable})` : 'one thread was asked for'}`);
      }
      // The module says which build it is; options that name another one are a mistake.
      made = await Engine.create(module, pool, (b) => {
        if ((options.relaxed !== undefined && options.relaxed !== (b === 'relaxed')) || options.simd === (b === 'scalar')) {
          fail(`init: the module passed as wasm is the ${b} build, but the options ask for ${JSON.stringify({ simd: options.simd, relaxed: options.relaxed })}`);
        }
      }).catch((err: unknown) => {
        if (!(err instanceof ThreadsRefused)) throw err;
        if (err.lasting) refused = err.message;
        fail(`init: this host does not let worker threads start (${err.message}); pass a single-thread build without threads`);
      });
    } else {
      try {
        made = await packagedEngine(buildOf(backend, threads), pool);
      } catch (err) {
        // a host that forbids worker threads (Node's permission model without --allow-worker, a
        // page's Content-Security-Policy): one thread, now and, for a lasting refusal, from now on
        if (!(err instanceof ThreadsRefused)) throw err;
        unavailable = err.message;
        if (err.lasting) refused = err.message;
        threads = 1;
        made = await packagedEngine(backend, undefined);
      }
    }
    const info: InitInfo = { backend: made.backend, threads, ...(unavailable === undefined ? {} : { threadsUnavailable: unavailable }) };
    // Of calls made while others wait, the last one made decides the engine of new models.
    if (call !== initCalls) {
      if (options.wasm !== undefined) made.stopThreads(); // nothing can use it: see below
      return info;
    }
    current = made;
    // An engine made from the caller's module cannot become current again: its worker threads end
    // (its models carry on, on one thread), so that repeated init({ wasm, threads }) leaks none.
    if (provided && provided !== current) provided.stopThreads();
    provided = options.wasm !== undefined ? current : undefined;
    // A pool that is not current and has no live model or sampler is stopped and forgotten: its
    // workers end and its memory can be freed (one with live ones keeps running for them).
    // (a pool still starting its workers is left alone: waiting for it could take seconds)
    for (const [key, { made: e }] of engines) {
      if (e && e !== current && e.poolBlock && e.liveObjects === 0) {
        e.stopThreads();
        engines.delete(key);
      }
    }
    return info;
  };
}

/**
 * The URL of a packaged .wasm file (`make` is a literal `new URL('./nalu-*.wasm', import.meta.url)`,
 * which bundlers see), or a NaluError where this code has no usable import.meta.url.
 */
export function packagedUrl(make: () => URL): URL {
  try {
    return make();
  } catch (err) {
    return loadFailed('the .wasm file', err);
  }
}

/** A packaged .wasm file that cannot be read: what a bundle lacks, and the way around it. */
export function loadFailed(where: string, err: unknown): never {
  // a host's refusal (Deno without --allow-read, Node's permission model) says itself what to do
  const refused = /^(NotCapable|PermissionDenied)$/.test((err as Error).name) || (err as { code?: unknown }).code === 'ERR_ACCESS_DENIED';
  fail(`init: cannot load ${where} (${(err as Error).message})${refused ? '' : ': a bundle needs ESM output and nalu-wasm/dist/*.wasm beside it, or init({ wasm })'}`);
}

/** Reads a file: URL (Node, whose fetch cannot). */
export type FileReader = (url: URL) => Promise<Uint8Array<ArrayBuffer>>;

export async function compileSource(source: WasmSource, readFile?: FileReader): Promise<WebAssembly.Module> {
  if (source instanceof WebAssembly.Module) return source;
  if (source instanceof ArrayBuffer || ArrayBuffer.isView(source)) return compileBytes(source as BufferSource, 'the bytes passed to init');
  if (typeof source === 'string' || source instanceof URL) {
    const where = String(source);
    // in Node, a string that is no URL is most likely a file path, which fetch cannot take
    const path = readFile !== undefined && typeof source === 'string' && !/^[a-z][a-z0-9+.-]+:/i.test(source); // (C:\\... is a path)
    const failed = (err: unknown): never => fail(`init: cannot load the wasm module from ${where}: ${(err as Error).message}${path ? ' (a file path? pass pathToFileURL(path) from node:url)' : ''}`);
    if (readFile && where.startsWith('file:')) return compileBytes(await readFile(new URL(where)).catch(failed), where);
    return compileResponse(fetch(source).catch(failed));
  }
  if (typeof Response !== 'undefined' && (source instanceof Response || source instanceof Promise)) {
    return compileResponse(source);
  }
  fail(`init: wasm must be a WebAssembly.Module, bytes, a URL or a Response, got ${describe(source)}`);
}

/** compileStreaming, falling back to the bytes when the server sends the wrong MIME type. */
export async function compileResponse(response: Response | Promise<Response>): Promise<WebAssembly.Module> {
  const res = await response;
  if (typeof Response !== 'undefined' && !(res instanceof Response)) fail(`init: the promise passed as wasm resolved to ${describe(res)}, not a Response`);
  if (res.bodyUsed) fail('init: the Response passed as wasm has been read already: pass a fresh one, or the bytes');
  if (!res.ok) fail(`init: fetching the wasm module failed: HTTP ${res.status} ${res.statusText} (${res.url})`);
  const type = res.headers.get('Content-Type') ?? '';
  if (typeof WebAssembly.compileStreaming === 'function' && type.split(';')[0]?.trim() === 'application/wasm') {
    return WebAssembly.compileStreaming(res).catch((err: unknown) => rethrow(err, res.url));
  }
  return compileBytes(await res.arrayBuffer(), `${res.url || 'the response'} (Content-Type ${type || 'none'})`);
}

/**
 * WebAssembly.compile with clear errors: bytes that are not a Wasm module (a dev server's HTML
 * fallback page, say) and hosts that refuse to compile bytes (workerd) are named as such.
 */
export async function compileBytes(bytes: BufferSource, where: string): Promise<WebAssembly.Module> {
  let u8: Uint8Array<ArrayBuffer>;
  try {
    // any view (a DataView too) as bytes, which every engine's compile takes
    u8 = bytes instanceof ArrayBuffer ? new Uint8Array(bytes) : new Uint8Array(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength);
  } catch (err) {
    fail(`init: ${where} cannot be read (${(err as Error).message}): a transferred (detached) buffer?`);
  }
  const view = u8.subarray(0, 4);
  if (view.length < 4 || view[0] !== 0 || view[1] !== 0x61 || view[2] !== 0x73 || view[3] !== 0x6d) {
    const head = String.fromCharCode(...view).replace(/[^\x20-\x7e]/g, '?');
    fail(`init: ${where} is not a WebAssembly module (it starts with ${JSON.stringify(head)}): ${where.includes('/.vite/deps/')
      ? 'Vite\'s dev server pre-bundled nalu-wasm, away from its .wasm files: add optimizeDeps: { exclude: [\'nalu-wasm\'] } to the Vite config'
      : 'a server or dev server may have answered with another file'}; or pass init({ wasm }) the URL of one of the package's nalu-*.wasm files`);
  }
  return WebAssembly.compile(u8).catch((err: unknown) => rethrow(err, where));
}

function rethrow(err: unknown, where: string): never {
  const message = err instanceof Error ? err.message : String(err);
  if (/disallowed by embedder|code generation/i.test(message)) {
    fail(`init: this host refuses to compile WebAssembly from bytes (${message}); ` +
      'pass init({ wasm }) a WebAssembly.Module, e.g. `import wasm from "nalu-wasm/nalu-simd.wasm"` on Cloudflare Workers');
  }
  fail(`init: ${where} is not a valid WebAssembly module for this engine: ${message}`);
}
