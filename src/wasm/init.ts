import { checkKeys, describe, fail } from '../errors.js';
import { Engine } from './engine.js';
import type { Backend } from './exports.js';
import { simdSupported } from './probe.js';

/** Where the module's bytes come from: anything `init({ wasm })` accepts. */
export type WasmSource = WebAssembly.Module | ArrayBuffer | ArrayBufferView | URL | string | Response | Promise<Response>;

/** Obtains the compiled module of a build, the way the current runtime allows. */
export type ModuleLoader = (backend: Backend) => Promise<WebAssembly.Module>;

export interface InitOptions {
  /** Force the SIMD build (true) or the scalar build (false); default: SIMD when supported. */
  simd?: boolean;
  /** The module of the chosen build, or its bytes, URL or Response, for bundlers and hosts. */
  wasm?: WasmSource;
}

export interface InitInfo {
  backend: Backend;
}

let current: Engine | undefined;
const engines = new Map<Backend, Promise<Engine>>();

/** The engine that new models use; throws a clear error before `init()`. */
export function currentEngine(): Engine {
  if (!current) fail('nalu-wasm is not initialised: call and await init() first');
  return current;
}

export function makeInit(loader: ModuleLoader): (options?: InitOptions) => Promise<InitInfo> {
  return async function init(options: InitOptions = {}): Promise<InitInfo> {
    if (options === null || typeof options !== 'object') fail(`init: options must be an object, got ${describe(options)}`);
    checkKeys('init', options, ['simd', 'wasm']);
    if (options.simd !== undefined && typeof options.simd !== 'boolean') {
      fail(`init: simd must be true or false, got ${describe(options.simd)}`);
    }
    const supported = simdSupported();
    if (options.simd === true && !supported) fail('init: simd was forced but this engine does not support WebAssembly SIMD');
    const backend: Backend = (options.simd ?? supported) ? 'simd' : 'scalar';
    if (options.wasm !== undefined) {
      // A module handed in is the caller's: instantiate it each time, caching nothing.
      current = await Engine.create(await compileSource(options.wasm), backend);
    } else {
      let engine = engines.get(backend);
      if (!engine) {
        engine = loader(backend).then((module) => Engine.create(module, backend));
        engines.set(backend, engine);
        engine.catch(() => engines.delete(backend));
      }
      current = await engine;
    }
    return { backend };
  };
}

export async function compileSource(source: WasmSource): Promise<WebAssembly.Module> {
  if (source instanceof WebAssembly.Module) return source;
  if (source instanceof ArrayBuffer || ArrayBuffer.isView(source)) {
    return WebAssembly.compile(source as BufferSource);
  }
  if (typeof source === 'string' || source instanceof URL) return compileResponse(fetch(source));
  if (typeof Response !== 'undefined' && (source instanceof Response || source instanceof Promise)) {
    return compileResponse(source);
  }
  fail(`init: wasm must be a WebAssembly.Module, bytes, a URL or a Response, got ${describe(source)}`);
}

/** compileStreaming, falling back to the bytes when the server sends the wrong MIME type. */
export async function compileResponse(response: Response | Promise<Response>): Promise<WebAssembly.Module> {
  const res = await response;
  if (!res.ok) fail(`init: fetching the wasm module failed: HTTP ${res.status} ${res.statusText} (${res.url})`);
  if (typeof WebAssembly.compileStreaming === 'function' &&
      (res.headers.get('Content-Type') ?? '').split(';')[0]?.trim() === 'application/wasm') {
    return WebAssembly.compileStreaming(res);
  }
  return WebAssembly.compile(await res.arrayBuffer());
}
