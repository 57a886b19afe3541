// Builds dist/: one ESM entry per runtime (see package.json "exports"), shared chunks, the five
// .wasm builds copied beside them as files, and one bundled index.d.ts for every entry.
// No top-level await anywhere, so that require() of the package works on Node >= 20.19.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { basename } from 'node:path';
import typescript from '@rollup/plugin-typescript';
import { transform } from 'esbuild';
import { dts } from 'rollup-plugin-dts';
import { minify } from 'terser';

const WASM = ['nalu-simd.wasm', 'nalu-scalar.wasm', 'nalu-relaxed.wasm', 'nalu-threads.wasm', 'nalu-relaxed-threads.wasm'];

const entries = {
  index: 'src/index.ts', // node
  deno: 'src/entries/deno.ts',
  bun: 'src/entries/bun.ts',
  workerd: 'src/entries/workerd.ts',
  browser: 'src/entries/browser.ts', // browser and default
};
// The command line (src/cli.ts, when present) is built on its own into one file: it starts
// worker threads on its own file, and what it imports must not reach the library's chunks.
const cli = existsSync('src/cli.ts') ? 'src/cli.ts' : undefined;

rmSync('dist', { recursive: true, force: true });

/** Copies build/*.wasm into dist/ and keeps `import x from './nalu-*.wasm'` (workerd) as is. */
function wasmFiles() {
  return {
    name: 'nalu-wasm-files',
    resolveId(source) {
      if (!source.endsWith('.wasm')) return null;
      const name = basename(source);
      if (!WASM.includes(name)) this.error(`unknown wasm import ${source}`);
      return { id: `./${name}`, external: true };
    },
    generateBundle() {
      for (const name of WASM) {
        const path = `build/${name}`;
        if (!existsSync(path)) this.error(`${path} is missing: run npm run asbuild first`);
        this.emitFile({ type: 'asset', fileName: name, source: readFileSync(path) });
      }
      // The type of `import wasm from 'nalu-wasm/nalu-simd.wasm'` where the host compiles it
      // (workerd, and bundlers told to), for init({ wasm }).
      this.emitFile({ type: 'asset', fileName: 'wasm.d.ts', source: 'declare global {\n  namespace WebAssembly { interface Module {} }\n}\n' +
        '/**\n * A build of the module, compiled by the host that imports it: workerd, or a bundler told to\n' +
        ' * (pass it to init({ wasm })). Node does not import .wasm files (Node 20 only with\n' +
        ' * --experimental-wasm-modules): there, init() loads the builds itself.\n */\n' +
        'declare const module: WebAssembly.Module;\nexport default module;\n' });
    },
  };
}

/**
 * Reprints each chunk with esbuild: the same statements without the whitespace between them, in
 * esbuild's shorter equivalents of some (minifySyntax: `if (c) fail(...)` as `c && fail(...)`,
 * merged declarations), every name kept, so that stack traces name the functions; a source map
 * beside each file leads back to src/ (node --enable-source-maps, browsers' devtools). About 12%
 * fewer gzipped bytes to load than tsc's output.
 */
function reprint() {
  return {
    name: 'reprint',
    async renderChunk(code) {
      const out = await transform(code, { format: 'esm', target: 'es2022', minifySyntax: true, minifyWhitespace: true, sourcemap: 'external' });
      return { code: out.code, map: out.map };
    },
  };
}

/**
 * Renames the variables, constants and parameters of each chunk to short names (terser, nothing
 * compressed): functions, classes and methods keep theirs, so stack traces read as before, and
 * the source map still leads back to src/. About 10% fewer gzipped bytes to load. Lines are cut
 * at about 160 characters where terser can: Node prints the line of an uncaught error's throw
 * above its message, which in one line of the whole bundle was 69 KB of code (the cut costs
 * about 500 gzipped bytes).
 */
function mangleNames() {
  return {
    name: 'mangle-names',
    async renderChunk(code) {
      const out = await minify(code, {
        module: true, compress: false, sourceMap: { asObject: true },
        mangle: { keep_fnames: true, keep_classnames: true },
        format: { max_line_len: 160 },
      });
      return { code: out.code, map: out.map };
    },
  };
}

/** Fails the build on a top-level await, which would break require() of the package. */
function noTopLevelAwait() {
  const FUNCTIONS = new Set(['FunctionDeclaration', 'FunctionExpression', 'ArrowFunctionExpression']);
  const found = (node) => {
    if (!node || typeof node.type !== 'string' || FUNCTIONS.has(node.type)) return false;
    if (node.type === 'AwaitExpression' || (node.type === 'ForOfStatement' && node.await)) return true;
    return Object.values(node).some((v) => (Array.isArray(v) ? v.some(found) : typeof v === 'object' && found(v)));
  };
  return {
    name: 'no-top-level-await',
    renderChunk(code, chunk) {
      if (found(this.parse(code))) this.error(`${chunk.fileName} has a top-level await: require(esm) would fail`);
      return null;
    },
  };
}

export default [
  {
    input: entries,
    external: [/^node:/],
    plugins: [
      wasmFiles(),
      typescript({
        tsconfig: './tsconfig.json',
        include: ['src/**/*.ts'],
        exclude: ['test/**', 'bench/**'],
        compilerOptions: { noEmit: false, declaration: false, sourceMap: true, inlineSources: true, removeComments: true },
      }),
      reprint(),
      mangleNames(),
      noTopLevelAwait(),
    ],
    output: {
      dir: 'dist',
      format: 'es',
      entryFileNames: '[name].js',
      chunkFileNames: '[name].js',
      sourcemap: true,
      // The shared code in one chunk (nalu.js), each loader beside its entry or in its own chunk,
      // the threads' modules in chunks imported when threads are asked for: nalu.js imports
      // nothing a runtime may lack.
      manualChunks: (id, { getModuleInfo }) =>
        !getModuleInfo(id)?.isEntry && /\/src\/(?!entries\/|wasm\/load-|wasm\/threads-)/.test(id.replaceAll('\\', '/')) ? 'nalu' : undefined,
      generatedCode: 'es2015',
    },
    treeshake: { moduleSideEffects: false },
  },
  ...(cli ? [{
    input: { cli },
    external: [/^node:/],
    plugins: [
      typescript({
        tsconfig: './tsconfig.json',
        include: ['src/**/*.ts'],
        exclude: ['test/**', 'bench/**'],
        compilerOptions: { noEmit: false, declaration: false, sourceMap: false, removeComments: true },
      }),
    ],
    output: { dir: 'dist', format: 'es', entryFileNames: '[name].js', inlineDynamicImports: true, generatedCode: 'es2015' },
  }] : []),
  {
    input: 'src/index.ts',
    external: [/^node:/],
    plugins: [dts({ tsconfig: './tsconfig.json', compilerOptions: { stripInternal: true } })],
    output: { file: 'dist/index.d.ts', format: 'es' },
  },
];
