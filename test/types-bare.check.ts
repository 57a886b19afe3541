// The published declarations in a project with no platform types at all (lib ES2022, types []:
// a workerd project without @cloudflare/workers-types, say), compiled by `npm run typecheck`
// with tsconfig.types-bare.json: they name URL, Response and WebAssembly.Module, which such a
// project gets as the empty interfaces the declarations add.
import { init, nac, sequential, type WasmSource } from '../dist/index.js';

declare const module: WasmSource;
await init({ wasm: module });
const model = sequential([nac({ inputs: 2, outputs: 1 })]);
const y: Float32Array = model.predict([1, 2]);
const bytes: Uint8Array<ArrayBuffer> = model.save();

export { y, bytes };
