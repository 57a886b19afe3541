/** Every error this package throws on bad input or misuse. */
export class NaluError extends Error {
  /** "NaluError" (its subclasses have their own). */
  override name = 'NaluError';
}

/**
 * A training step refused because its loss, a gradient or the update was not finite (see
 * sequential's allowNonFinite): the model and its optimizer are as they were, so a training loop
 * may catch it and go on with the next batch.
 */
export class NonFiniteStepError extends NaluError {
  /** "NonFiniteStepError". */
  override name = 'NonFiniteStepError';
}

/** The method util.inspect (console.log in Node, Bun and Deno) calls to show an object. */
export const INSPECT: unique symbol = Symbol.for('nodejs.util.inspect.custom') as never;

export function fail(message: string): never {
  throw new NaluError(message);
}

/** Re-raises `err` as a NaluError whose message starts with `what: ` (other errors as they are). */
export function prefixed(what: string, err: unknown): never {
  if (err instanceof NaluError) {
    if (err.message.startsWith(`${what}: `)) throw err;
    fail(`${what}: ${err.message}`);
  }
  throw err;
}

/**
 * Throws the error of a `kind`'s method (`what`) called on `self`, something else: `made` names
 * how one is made. Unless `self` was made from the class's prototype, the method was most likely
 * passed on by itself (to array.map, setTimeout or a variable), and the error says how to keep
 * its object.
 */
export function calledOn(what: string, self: unknown, kind: string, made: string, detached: boolean): never {
  fail(`${what}: called on ${describe(self)}, not a ${kind} made by ${made}${detached
    ? ` (a method passed on by itself, as to array.map or setTimeout, loses its ${kind}): call ${kind}.${what}(...) or pass ${kind}.${what}.bind(${kind})` : ''}`);
}

/** Throws unless `value` is true, false or undefined (the default); `what` names the option. */
export function checkBool(what: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'boolean') fail(`${what} must be true or false, got ${describe(value)}`);
}

/** Throws unless `value` is an integer in [min, max]; `what` names the argument. */
export function checkInt(what: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(`${what} must be an integer from ${min} to ${max}, got ${describe(value)}`);
  }
  return value;
}

/** Throws unless `value` is a finite number in (min, max] (or [min, max] when `closedMin`). */
export function checkNumber(what: string, value: unknown, min: number, max: number, closedMin = false): number {
  const ok = typeof value === 'number' && Number.isFinite(value) &&
    (closedMin ? value >= min : value > min) && value <= max;
  if (!ok) {
    fail(`${what} must be a finite number ${closedMin ? '>=' : '>'} ${min} and <= ${max}, got ${describe(value)}`);
  }
  return value as number;
}

/**
 * checkNumber for a number the module computes with in f32, whose f32 rounding must stay above
 * `min` too (1e-46 is > 0 but rounds to 0). Maximums are chosen below 1 in f32 (0.9999999).
 */
export function checkF32(what: string, value: unknown, min: number, max: number, closedMin = false): number {
  const v = checkNumber(what, value, min, max, closedMin), f = Math.fround(v);
  if (!(closedMin ? f >= min : f > min)) {
    fail(`${what} must be ${closedMin ? '>=' : '>'} ${min} in f32, the precision the module computes in; got ${v}, which rounds to ${f}`);
  }
  return v;
}

/** What follows "must be finite" for a value that is finite in f64 but not in f32. */
export const inF32 = (v: unknown): string => (Number.isFinite(v) && Math.abs(v as number) > F32_MAX ? ` in f32, whose largest value is ${F32_MAX}` : '');

/** The largest finite f32. */
export const F32_MAX = 3.4028234663852886e38;

/** "a Float32Array", "an Int32Array": the article a name takes. */
export const article = (name: string): string => (/^[AEIO]/.test(name) ? `an ${name}` : `a ${name}`);

/** The constructor every typed array class extends. */
const TYPED_ARRAY = Object.getPrototypeOf(Uint8Array) as abstract new () => object;

/**
 * A typed array's own getters and methods, which read its internal slots: a subclass, its
 * prototype chain (a Proxy there runs code for instanceof) or the array itself may shadow
 * `length`, `buffer`, `set` or `subarray` with code that lies or runs at the wrong time.
 */
const slot = (name: string | symbol) => Object.getOwnPropertyDescriptor(TYPED_ARRAY.prototype, name)!.get!;
const LENGTH = slot('length'), BUFFER = slot('buffer'), OFFSET = slot('byteOffset'), BYTES = slot('byteLength');
const KIND = slot(Symbol.toStringTag);
const SET = (TYPED_ARRAY.prototype as Float32Array).set;
export const lengthOf = (v: ArrayBufferView): number => LENGTH.call(v) as number;

/** "Float32Array" for a Float32Array (of any prototype), undefined for anything but a typed array. */
export const typedKind = (v: unknown): string | undefined => KIND.call(v) as string | undefined;

/** dst.set(src, offset), whatever dst's class or prototype put in place of set. */
export const copyInto = (dst: Float32Array | Uint32Array, src: ArrayLike<number>, offset = 0): void => SET.call(dst as Float32Array, src, offset);

const AB_BYTES = Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, 'byteLength')!.get!;

/**
 * True for an ArrayBuffer of any realm, by its internal slot (a look-alike, a Proxy or a
 * SharedArrayBuffer is not one).
 */
export function isArrayBuffer(v: unknown): v is ArrayBuffer {
  try {
    AB_BYTES.call(v);
    return true;
  } catch {
    return false;
  }
}

/** The buffer of a typed array and the byte range [start, end) it covers there. */
export function bytesOf(v: ArrayBufferView): [ArrayBufferLike, number, number] {
  const start = OFFSET.call(v) as number;
  return [BUFFER.call(v) as ArrayBufferLike, start, start + (BYTES.call(v) as number)];
}

/** Elements [lo, lo + n) of a Float32Array or Float64Array, as a view of its memory. */
export function windowOf(v: Float32Array | Float64Array, lo: number, n: number): Float32Array | Float64Array {
  const [buffer, start] = bytesOf(v);
  return typedKind(v) === 'Float64Array' ? new Float64Array(buffer, start + 8 * lo, n) : new Float32Array(buffer, start + 4 * lo, n);
}

/** "Float32Array", ..., or "DataView": what an ArrayBuffer view is, by its slots (not its constructor's name). */
export const viewKind = (v: ArrayBufferView): string => typedKind(v) ?? 'DataView';

/** A real Float32Array or Float64Array, known by its internal slots (a Proxy of one is not). */
export function isFloatArray(v: unknown): v is Float32Array | Float64Array {
  const kind = typedKind(v);
  return kind === 'Float32Array' || kind === 'Float64Array';
}

/** A value as an error message shows it; a long string is cut to its first 60 characters. */
export function describe(value: unknown): string {
  if (typeof value === 'string') return value.length > 60 ? `${JSON.stringify(value.slice(0, 60))}... (${value.length} characters)` : JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value == null) return String(value);
  if (Array.isArray(value)) {
    if (value.length === 0) return 'an empty array';
    // a few plain values are shown: "got [2, 1]" says more than "got an array of length 2"
    const plain = value.length <= 4 && value.every((v) => v === null || (typeof v !== 'object' && typeof v !== 'function'));
    return plain ? `[${value.map(describe).join(', ')}]` : `an array of length ${value.length}`;
  }
  if (ArrayBuffer.isView(value)) return article(viewKind(value));
  if (typeof value !== 'object') return typeof value;
  // a Proxy of a typed array, or an object made from its prototype: instanceof says yes, it holds nothing
  if (value instanceof TYPED_ARRAY) return `an object posing as ${article((value as { constructor: { name: string } }).constructor.name)} (a Proxy?)`;
  // an instance of a class is named by it ("got a Promise"), a plain object is "an object"
  const name = (Object.getPrototypeOf(value) as { constructor?: { name?: unknown } } | null)?.constructor?.name;
  return typeof name === 'string' && name !== '' && name !== 'Object' ? article(name) : 'an object';
}

/**
 * An object as a literal or JSON.parse makes them, in this realm or another (a vm context, an
 * iframe): not an array, a Date, a Map or another class's instance.
 */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Object.prototype.toString.call(v) !== '[object Object]') return false;
  const proto = Object.getPrototypeOf(v) as object | null;
  return proto === null || Object.getPrototypeOf(proto) === null;
}

/**
 * Makes fields that the types declare readonly read-only at run time as well (neither written nor
 * redefined), where the library trusts them: a batch's size, a record's address; and the object
 * closed to new properties, which could shadow its class's methods and getters.
 */
export function lockFields(o: object, names: readonly string[]): void {
  for (const name of names) Object.defineProperty(o, name, { writable: false, configurable: false });
  Object.preventExtensions(o);
}

/**
 * Checks an options argument: an object (not null, not an array; `example` follows "an object" in
 * the message), then as checkKeys.
 */
export function checkOptions<T extends object = Record<string, unknown>>(what: string, options: unknown, allowed: readonly string[], example = ''): T {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) fail(`${what}: options must be an object${example}, got ${describe(options)}`);
  return checkKeys(what, options, allowed) as T;
}

/**
 * Throws unless `options` is a plain object (a Map, a Date or a class instance would have its
 * settings ignored), or if it has keys outside `allowed` (catches misspelt options), or a key
 * whose value is null. Returns a copy of its entries, each read once (a getter runs once): what
 * is checked after is what is used.
 */
export function checkKeys<T extends object = Record<string, unknown>>(what: string, options: object, allowed: readonly string[]): T {
  if (!isPlainObject(options)) fail(`${what}: expected a plain object ({ ${allowed.join(', ')} }), got ${describe(options)}`);
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) fail(`${what}: unknown option ${describe(key)} (expected one of ${allowed.join(', ')})`);
  }
  const copy: Record<string, unknown> = {};
  for (const key of allowed) {
    if (!Object.hasOwn(options, key)) continue;
    const value = options[key];
    if (value === null) fail(`${what}: ${key} is null; an option takes its default only when it is left out (or undefined)`);
    copy[key] = value;
  }
  return copy as T;
}
