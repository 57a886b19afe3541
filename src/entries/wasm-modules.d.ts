/** Hosts that import .wasm files as compiled modules (workerd, wrangler, esbuild with a plugin). */
declare module '*.wasm' {
  const module: WebAssembly.Module;
  export default module;
}
