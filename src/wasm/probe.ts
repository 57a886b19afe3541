/**
 * True when this engine validates a module that uses SIMD128: a function returning
 * `i32x4.splat(0)` as v128. WebAssembly.validate compiles nothing, so it is allowed even in
 * hosts that refuse to compile Wasm from bytes (workerd).
 */
export function simdSupported(): boolean {
  const bytes = new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
    0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // type section: () -> v128
    0x03, 0x02, 0x01, 0x00, // function section
    0x0a, 0x08, 0x01, 0x06, 0x00, 0x41, 0x00, 0xfd, 0x11, 0x0b, // i32.const 0; i32x4.splat; end
  ]);
  return validates(bytes);
}

/**
 * True when this engine validates a module that uses relaxed SIMD (f32x4.relaxed_madd): Chrome
 * and Edge 114+, Node 22+ (Node 20 with --experimental-wasm-relaxed-simd), Deno, Firefox 120+.
 */
export function relaxedSimdSupported(): boolean {
  const splat0 = [0x41, 0x00, 0xfd, 0x11]; // i32.const 0; i32x4.splat
  const bytes = new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b,
    0x03, 0x02, 0x01, 0x00,
    0x0a, 0x13, 0x01, 0x11, 0x00, ...splat0, ...splat0, ...splat0, 0xfd, 0x85, 0x02, 0x0b, // f32x4.relaxed_madd
  ]);
  return validates(bytes);
}

function validates(bytes: Uint8Array<ArrayBuffer>): boolean {
  try {
    return WebAssembly.validate(bytes);
  } catch {
    return false;
  }
}
