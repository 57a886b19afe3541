/**
 * Saved models: `model.save()` / `load(bytes)` (binary) and `model.toJSON()` / `fromJSON(json)`
 * (readable). Both forms hold the same content: the model's options, its layers' specifications
 * and parameters, and optionally the optimizer's kind, hyperparameters, step count and moments.
 * docs/serialization.md describes the binary format field by field.
 *
 * This file encodes and decodes; restore.ts builds the model. Decoding and building check
 * everything before a model is returned, and every failure is a NaluError that says what is
 * wrong (not a nalu-wasm model, a newer format version, truncated, checksum mismatch, an unknown
 * layer type, a tensor of the wrong length, ...).
 *
 * Both encodings are deterministic: the same model saves to the same bytes every time, on
 * both builds and in every runtime. Parameters are copied bit for bit (NaN payloads and -0
 * included) on little-endian hosts; the JSON form keeps -0 and non-finite values as strings.
 */
import { article, checkBool, checkOptions, describe, fail, isArrayBuffer, isPlainObject, typedKind, viewKind } from './errors.js';
import { layerKind, MAX_LAYERS } from './layers.js';
import type { Model, Weights } from './model.js';

/** The first 8 bytes of every saved model: "NALUWASM" in ASCII. */
export const MAGIC = 'NALUWASM';
/** What load() says of an ArrayBuffer with a model inside but not at its start: the usual mistake with Node's Buffers. */
const WHOLE_BUFFER_HINT = 'an ArrayBuffer is read whole: for the .buffer of a Node Buffer or of a view, whose bytes may be part of a larger buffer, pass the Buffer or view itself';
/** The format version this code writes; it reads versions 1 to FORMAT_VERSION. */
export const FORMAT_VERSION = 1;
const FLAG_OPTIMIZER = 1;
const KNOWN_FLAGS = FLAG_OPTIMIZER;
/** magic (8) + version (2) + flags (2) + byte length (4) + layer count (4). */
const HEADER_BYTES = 20;
/** The smallest file: a header, no options and a checksum (a file also needs a layer to load). */
export const MIN_BYTES = HEADER_BYTES + 1 + 4;
/** Most tensors a layer can hold in the binary format (a u8 count); the JSON form is held to it too. */
const MAX_LAYER_TENSORS = 255;
/** Tags of the values of options. */
const TAG_F64 = 0;
const TAG_BOOL = 1;
const TAG_STRING = 2;

/** What model.save() and model.toJSON() take. */
export interface SaveOptions {
  /**
   * Also save the optimizer's kind, settings, step count and moments, so that the loaded
   * model's `optimizer` continues training exactly where this one stopped. A model that has
   * not trained yet has no optimizer state, and is saved without it.
   */
  optimizer?: boolean | undefined;
}

/** A parameter tensor in the JSON form: numbers, with "NaN", "Infinity", "-Infinity", "-0". */
export type JsonTensor = Array<number | string>;

/** A saved option's value. */
export type OptionValue = number | boolean | string;
/** Options as JSON: scalars, or records of scalars (sequential's `regularizer`). */
export type JsonOptions = Record<string, OptionValue | Record<string, OptionValue>>;

/** What `model.toJSON()` returns and `fromJSON()` takes (or its JSON text). */
export interface ModelJSON {
  /** Always "nalu-wasm": what fromJSON checks first. */
  format: 'nalu-wasm';
  /** The format's version (1); fromJSON reads versions up to its own. */
  version: number;
  /** The model's options, as `model.options` gives them (sequential's options). */
  options: JsonOptions;
  /** The layers in order: their specs, and their parameters named as in getWeights(). */
  layers: Array<{
    type: string;
    inputs: number;
    outputs: number;
    options: JsonOptions;
    params: Record<string, JsonTensor>;
  }>;
  /** With `{ optimizer: true }`: the optimizer and its state, to continue training. */
  optimizer?: undefined | {
    kind: string;
    step: number;
    /** The optimizer's fields (learningRate, beta1, beta2, epsilon, clipValue). */
    settings: Record<string, number>;
    /** The first and second moments, per layer, named as the params. */
    m: Array<Record<string, JsonTensor>>;
    v: Array<Record<string, JsonTensor>>;
  };
}

// ---- the content of a saved model, whatever its encoding ----------------------------------

/** Options flattened to sorted [key, scalar] pairs; a record's fields become "record.field". */
type FlatOptions = Array<[string, OptionValue]>;

interface SavedLayer {
  type: string;
  inputs: number;
  outputs: number;
  options: FlatOptions;
  params: Array<[string, Float32Array]>;
}

export interface SavedOptimizer {
  kind: string;
  step: number;
  settings: Array<[string, number]>;
  /** The moments, one array per tensor, in the order of the layers' params. */
  m: Float32Array[];
  v: Float32Array[];
}

/** The content of a saved model; exported (as a type) for the tests. */
export interface SavedModel {
  options: FlatOptions;
  layers: SavedLayer[];
  optimizer?: SavedOptimizer;
}

function flatten(options: Readonly<Record<string, unknown>>): FlatOptions {
  const out: FlatOptions = [];
  const add = (key: string, v: unknown) => {
    if (v === undefined) return;
    if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'string') out.push([key, v]);
    else throw new Error(`nalu-wasm: cannot save the option ${key} (${describe(v)})`);
  };
  for (const [key, v] of Object.entries(options)) {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      for (const [sub, w] of Object.entries(v)) add(`${key}.${sub}`, w);
    } else {
      add(key, v);
    }
  }
  return out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

/** The inverse of flatten; refuses a key given twice. */
export function unflatten(what: string, where: string, flat: FlatOptions): Record<string, unknown> {
  const out: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  for (const [key, v] of flat) {
    const dot = key.indexOf('.');
    if (dot < 0) {
      if (key in out) fail(`${what}: ${where} has the option ${key} twice`);
      out[key] = v;
      continue;
    }
    const head = key.slice(0, dot), field = key.slice(dot + 1);
    const rec = (out[head] ??= Object.create(null) as Record<string, unknown>) as Record<string, unknown>;
    if (typeof rec !== 'object' || field in rec) fail(`${what}: ${where} has the option ${key} twice`);
    rec[field] = v;
  }
  // Plain objects again, for the validators (checkKeys uses Object.keys); fromEntries defines
  // each key as an own property, "__proto__" too.
  const plain = (rec: Record<string, unknown>) => Object.fromEntries(Object.entries(rec));
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, typeof v === 'object' ? plain(v as Record<string, unknown>) : v]));
}

function saveOptions(what: string, options: unknown): { optimizer: boolean } {
  if (options === undefined) return { optimizer: false };
  const o = checkOptions(what, options, ['optimizer'], ' such as { optimizer: true }').optimizer;
  checkBool(`${what}: optimizer`, o);
  return { optimizer: o === true };
}

/** The content of `model` (copies). */
function snapshot(what: string, model: Model, options: unknown): SavedModel {
  const disposed = () => model.isDisposed && fail(`${what}: this model has been disposed`);
  disposed();
  const { optimizer: withOptimizer } = saveOptions(what, options);
  disposed(); // (an options getter may have disposed it)
  const weights = model.getWeights();
  const names = model.layers.map((spec) => layerKind(spec.type).params(spec).map((p) => p.name));
  const layers = model.layers.map((spec, k): SavedLayer => ({
    type: spec.type,
    inputs: spec.inputs,
    outputs: spec.outputs,
    options: flatten(spec.options),
    params: names[k]!.map((name) => [name, weights[k]![name]!]),
  }));
  const state = withOptimizer ? model.optimizerState() : undefined;
  const flat = (w: Weights) => names.flatMap((list, k) => list.map((name) => w[k]![name]!));
  let optimizer: SavedOptimizer | undefined;
  if (state) {
    const settings = Object.keys(state.optimizer).filter((key) => key !== 'kind').sort()
      .map((key): [string, number] => [key, (state.optimizer as unknown as Record<string, number>)[key]!]);
    optimizer = { kind: state.optimizer.kind, step: state.step, settings, m: flat(state.m), v: flat(state.v) };
  }
  return { options: flatten(model.options), layers, optimizer };
}

// ---- CRC-32 ----------------------------------------------------------------------------------

let CRC_TABLE: Uint32Array | undefined;

/**
 * CRC-32 as in zlib, PNG and Ethernet (IEEE 802.3: reflected polynomial 0xEDB88320, initial
 * value and final XOR 0xFFFFFFFF); crc32 of the ASCII bytes "123456789" is 0xCBF43926.
 */
export function crc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  if (!CRC_TABLE) {
    CRC_TABLE = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      CRC_TABLE[n] = c >>> 0;
    }
  }
  const table = CRC_TABLE;
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = table[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

// ---- the binary form ------------------------------------------------------------------------

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const hex = (n: number, digits = 8) => `0x${n.toString(16).padStart(digits, '0')}`;

class Writer {
  private buf = new Uint8Array(256);
  private view = new DataView(this.buf.buffer);
  pos = 0;

  private need(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(v: number): void { this.need(1); this.view.setUint8(this.pos, v); this.pos += 1; }
  u16(v: number): void { this.need(2); this.view.setUint16(this.pos, v, true); this.pos += 2; }
  u32(v: number): void { this.need(4); this.view.setUint32(this.pos, v, true); this.pos += 4; }
  f64(v: number): void { this.need(8); this.view.setFloat64(this.pos, v, true); this.pos += 8; }
  u64(v: number): void { this.u32(v % 0x100000000); this.u32(Math.floor(v / 0x100000000)); }

  /** u8 length, then the ASCII bytes. */
  str(s: string): void {
    if (s.length > 255 || !/^[\x20-\x7e]*$/.test(s)) throw new Error(`nalu-wasm: cannot save the name ${JSON.stringify(s)}`);
    this.u8(s.length);
    this.need(s.length);
    for (let i = 0; i < s.length; i++) this.buf[this.pos++] = s.charCodeAt(i);
  }

  /** u32 count, then the values as f32, bit for bit. */
  f32s(a: Float32Array): void {
    this.u32(a.length);
    this.need(4 * a.length);
    if (LITTLE_ENDIAN) {
      this.buf.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), this.pos);
    } else {
      const bits = new Uint32Array(a.buffer, a.byteOffset, a.length);
      for (let i = 0; i < a.length; i++) this.view.setUint32(this.pos + 4 * i, bits[i]!, true);
    }
    this.pos += 4 * a.length;
  }

  setU32(at: number, v: number): void { this.view.setUint32(at, v, true); }
  bytes(): Uint8Array<ArrayBuffer> { return this.buf.slice(0, this.pos); }
  get buffer(): Uint8Array { return this.buf; }
}

/** Option entries: u8 count, then per entry a name, a tag and a value. */
function writeOptions(w: Writer, options: FlatOptions): void {
  if (options.length > 255) throw new Error('nalu-wasm: too many options to save');
  w.u8(options.length);
  for (const [key, value] of options) {
    w.str(key);
    if (typeof value === 'number') { w.u8(TAG_F64); w.f64(value); }
    else if (typeof value === 'boolean') { w.u8(TAG_BOOL); w.u8(value ? 1 : 0); }
    else { w.u8(TAG_STRING); w.str(value); }
  }
}

/** Encodes the content of a model; exported for the tests (to craft files with a valid checksum). */
export function encodeModel(saved: SavedModel): Uint8Array<ArrayBuffer> {
  const w = new Writer();
  for (let i = 0; i < MAGIC.length; i++) w.u8(MAGIC.charCodeAt(i));
  w.u16(FORMAT_VERSION);
  w.u16(saved.optimizer ? FLAG_OPTIMIZER : 0);
  w.u32(0); // the byte length, set below
  w.u32(saved.layers.length);
  writeOptions(w, saved.options);
  for (const l of saved.layers) {
    w.str(l.type);
    w.u32(l.inputs);
    w.u32(l.outputs);
    writeOptions(w, l.options);
    w.u8(l.params.length);
    for (const [name, values] of l.params) {
      w.str(name);
      w.f32s(values);
    }
  }
  const o = saved.optimizer;
  if (o) {
    w.str(o.kind);
    w.u64(o.step);
    w.u8(o.settings.length);
    for (const [key, value] of o.settings) {
      w.str(key);
      w.f64(value);
    }
    w.u32(o.m.length);
    for (const a of o.m) w.f32s(a);
    for (const a of o.v) w.f32s(a);
  }
  const length = w.pos + 4;
  if (length > 0xffffffff) fail(`save: the model needs ${length} bytes, more than the 4 GiB the format allows`);
  w.setU32(12, length);
  w.u32(crc32(w.buffer, 0, w.pos));
  return w.bytes();
}

class Reader {
  private readonly view: DataView;
  pos: number;

  constructor(private readonly what: string, private readonly bytes: Uint8Array, start: number, private readonly end: number) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.pos = start;
  }

  private take(n: number, field: string): number {
    if (this.pos + n > this.end) {
      fail(`${this.what}: corrupt data: ${field} at byte ${this.pos} needs ${n} bytes, past the end of the model data (byte ${this.end})`);
    }
    const at = this.pos;
    this.pos += n;
    return at;
  }

  u8(field: string): number { return this.view.getUint8(this.take(1, field)); }
  u32(field: string): number { return this.view.getUint32(this.take(4, field), true); }
  f64(field: string): number { return this.view.getFloat64(this.take(8, field), true); }

  u64(field: string): number {
    const at = this.take(8, field);
    const v = this.view.getUint32(at, true) + 0x100000000 * this.view.getUint32(at + 4, true);
    if (!Number.isSafeInteger(v)) fail(`${this.what}: ${field} is ${v}, larger than ${Number.MAX_SAFE_INTEGER}`);
    return v;
  }

  str(field: string): string {
    const n = this.u8(`the length of ${field}`);
    const at = this.take(n, field);
    let s = '';
    for (let i = 0; i < n; i++) {
      const c = this.bytes[at + i]!;
      if (c < 0x20 || c > 0x7e) fail(`${this.what}: corrupt data: ${field} at byte ${at} holds the byte ${hex(c, 2)}, not printable ASCII`);
      s += String.fromCharCode(c);
    }
    return s;
  }

  f32s(field: string): Float32Array {
    const n = this.u32(`the length of ${field}`);
    const at = this.take(4 * n, `the ${n} values of ${field}`);
    if (LITTLE_ENDIAN) {
      // A fresh, aligned copy (a Node Buffer's slice() is a view into a shared pool).
      const copy = new Uint8Array(4 * n);
      copy.set(this.bytes.subarray(at, at + 4 * n));
      return new Float32Array(copy.buffer);
    }
    const bits = new Uint32Array(n);
    for (let i = 0; i < n; i++) bits[i] = this.view.getUint32(at + 4 * i, true);
    return new Float32Array(bits.buffer);
  }
}

const AB_SLICE = ArrayBuffer.prototype.slice;

const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;

/** Describes a wrong argument of load() or fromJSON(), with a hint where one helps. */
function describeInput(value: unknown, fn: 'load' | 'fromJSON'): string {
  if (ArrayBuffer.isView(value)) return `${article(viewKind(value))}${fn === 'fromJSON' && typedKind(value) === 'Uint8Array' ? ' (for the binary form use load)' : ''}`;
  if (typeof value === 'string') {
    const json = value.trimStart().startsWith('{') ? ' (it looks like JSON: use fromJSON for the JSON form)' : '';
    return `a string of ${plural(value.length, 'character')}${json}`;
  }
  if (fn === 'load' && isRecord(value) && value.format === 'nalu-wasm') return 'the JSON form of a model (use fromJSON for it)';
  return describe(value);
}

/** Whether the magic occurs in `bytes` past their start (a model inside a larger buffer). */
function holdsMagic(bytes: Uint8Array): boolean {
  next: for (let i = 1; i + MAGIC.length <= bytes.length; i++) {
    for (let k = 0; k < MAGIC.length; k++) if (bytes[i + k] !== MAGIC.charCodeAt(k)) continue next;
    return true;
  }
  return false;
}

/** Checks the envelope (magic, version, length, checksum) and decodes the content. */
export function decodeModel(what: string, input: unknown): SavedModel {
  const whole = isArrayBuffer(input);
  if (!whole && typedKind(input) !== 'Uint8Array') fail(`${what}: bytes must be a Uint8Array (what save() returns) or an ArrayBuffer, got ${describeInput(input, 'load')}`);
  // a copy: the bytes as the array's internal slots hold them, unchanged while they are read
  let bytes: Uint8Array;
  try {
    bytes = whole ? new Uint8Array(AB_SLICE.call(input, 0) as ArrayBuffer) : new Uint8Array(input as Uint8Array);
  } catch (err) {
    fail(`${what}: the bytes cannot be read (${(err as Error).message}): a transferred (detached) buffer?`);
  }
  const n = bytes.length;
  const head = Math.min(n, MAGIC.length);
  let magicOk = true;
  for (let i = 0; i < head; i++) if (bytes[i] !== MAGIC.charCodeAt(i)) magicOk = false;
  if (n === 0) fail(`${what}: not a nalu-wasm model: the data is empty (0 bytes)`);
  if (!magicOk) {
    const first = Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
    const hint = bytes[0] === 0x7b ? ' (it looks like JSON: use fromJSON for the JSON form)' : whole && holdsMagic(bytes) ? ` (${WHOLE_BUFFER_HINT})` : '';
    fail(`${what}: not a nalu-wasm model: it starts with the bytes ${first}, not "${MAGIC}"${hint}`);
  }
  if (n < MAGIC.length + 2) fail(`${what}: truncated: ${plural(n, 'byte')}, and a nalu-wasm model has at least ${MIN_BYTES}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint16(8, true);
  if (version > FORMAT_VERSION) {
    fail(`${what}: format version ${version} is newer than this version of nalu-wasm reads (1 to ${FORMAT_VERSION}): ` +
      'load it with a newer nalu-wasm (or the data is corrupt)');
  }
  if (version < 1) fail(`${what}: unknown format version ${version} (this nalu-wasm reads 1 to ${FORMAT_VERSION}): the data is corrupt`);
  if (n < MIN_BYTES) fail(`${what}: truncated: ${plural(n, 'byte')}, and a nalu-wasm model has at least ${MIN_BYTES}`);
  const length = view.getUint32(12, true);
  if (length < MIN_BYTES) fail(`${what}: corrupt header: it gives the model's length as ${length} bytes, less than the ${MIN_BYTES} of an empty model`);
  if (n < length) fail(`${what}: truncated: ${plural(n, 'byte')} of a model of ${length} bytes (the length its header gives; or that length is corrupt)`);
  if (n > length) {
    fail(`${what}: ${plural(n - length, 'unexpected byte')} after the model's ${length} bytes (the length its header gives): ` +
      `the data holds more than one saved model, or is corrupt${whole ? ` (${WHOLE_BUFFER_HINT})` : ''}`);
  }
  const stored = view.getUint32(length - 4, true);
  const computed = crc32(bytes, 0, length - 4);
  if (stored !== computed) {
    fail(`${what}: checksum mismatch: the model's CRC-32 is ${hex(stored)}, its bytes give ${hex(computed)}: the data is corrupt`);
  }

  // The checksum holds: what follows can only fail on a file written by other code.
  const flags = view.getUint16(10, true);
  if (flags & ~KNOWN_FLAGS) fail(`${what}: unknown flags ${hex(flags, 4)} in the header (this nalu-wasm knows ${hex(KNOWN_FLAGS, 4)})`);
  const r = new Reader(what, bytes, HEADER_BYTES, length - 4);
  const layerCount = view.getUint32(16, true);
  if (layerCount === 0) fail(`${what}: the model has no layers`);
  if (layerCount > MAX_LAYERS) fail(`${what}: the model has ${layerCount} layers, more than the ${MAX_LAYERS} a model may have`);
  const readOptions = (where: string): FlatOptions => {
    const options: FlatOptions = [];
    const n = r.u8(`the option count of ${where}`);
    for (let i = 0; i < n; i++) {
      const key = r.str(`an option name of ${where}`);
      const tag = r.u8(`the tag of option ${key} of ${where}`);
      if (tag === TAG_F64) options.push([key, r.f64(`option ${key} of ${where}`)]);
      else if (tag === TAG_BOOL) {
        const b = r.u8(`option ${key} of ${where}`);
        if (b > 1) fail(`${what}: corrupt data: option ${key} of ${where} is a boolean of value ${b}`);
        options.push([key, b === 1]);
      } else if (tag === TAG_STRING) options.push([key, r.str(`option ${key} of ${where}`)]);
      else fail(`${what}: corrupt data: option ${key} of ${where} has the unknown value tag ${tag}`);
    }
    return options;
  };
  const options = readOptions('the model');
  const layers: SavedLayer[] = [];
  for (let k = 0; k < layerCount; k++) {
    const at = `layer ${k}`;
    const type = r.str(`the type of ${at}`);
    const inputs = r.u32(`the inputs of ${at}`);
    const outputs = r.u32(`the outputs of ${at}`);
    const layerOptions = readOptions(at);
    const params: Array<[string, Float32Array]> = [];
    const nParams = r.u8(`the tensor count of ${at}`);
    for (let i = 0; i < nParams; i++) {
      const name = r.str(`a tensor name of ${at}`);
      params.push([name, r.f32s(`${name} of ${at}`)]);
    }
    layers.push({ type, inputs, outputs, options: layerOptions, params });
  }
  let optimizer: SavedOptimizer | undefined;
  if (flags & FLAG_OPTIMIZER) {
    const kind = r.str('the optimizer kind');
    const step = r.u64('the step count');
    const settings: Array<[string, number]> = [];
    const nSettings = r.u8('the optimizer\'s setting count');
    for (let i = 0; i < nSettings; i++) {
      const key = r.str('an optimizer setting name');
      settings.push([key, r.f64(`the optimizer setting ${key}`)]);
    }
    const count = r.u32('the optimizer\'s tensor count');
    // checked against what the layers could hold before anything is read: each tensor is an object
    if (count > MAX_LAYER_TENSORS * layerCount) {
      fail(`${what}: corrupt data: the optimizer's tensor count ${count} is more than ${layerCount} layers hold (${MAX_LAYER_TENSORS} each)`);
    }
    const tensors = (name: string) => Array.from({ length: count }, (_, i) => r.f32s(`tensor ${i} of the optimizer's ${name}`));
    const m = tensors('m');
    const v = tensors('v');
    optimizer = { kind, step, settings, m, v };
  }
  if (r.pos !== length - 4) fail(`${what}: corrupt data: ${plural(length - 4 - r.pos, 'unexpected byte')} at byte ${r.pos}, after the model's content`);
  return { options, layers, optimizer };
}

/** model.save(): the binary form. */
export function saveModel(model: Model, options?: SaveOptions): Uint8Array<ArrayBuffer> {
  return encodeModel(snapshot('save', model, options));
}

// ---- the JSON form --------------------------------------------------------------------------

/**
 * The shortest decimal that rounds back to the same f32; -0 and non-finite values as strings.
 * Found by bisection on the number of digits: the nearest decimal of p + 1 digits is at least as
 * close to x as that of p digits, so once p digits round back to x every longer form does too.
 */
function jsonNumber(x: number): number | string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  if (Object.is(x, -0)) return '-0';
  let lo = 1, hi = 9; // 9 significant digits always round back to an f32
  while (lo < hi) {
    const p = (lo + hi) >> 1;
    if (Math.fround(Number(x.toPrecision(p))) === x) hi = p;
    else lo = p + 1;
  }
  return Number(x.toPrecision(lo));
}

const SPECIAL: Record<string, number> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity, '-0': -0 };

const jsonTensor = (a: Float32Array): JsonTensor => Array.from(a, jsonNumber);

/** Flat options as JSON: "record.field" keys become nested records again. */
const jsonOptions = (flat: FlatOptions): JsonOptions => unflatten('toJSON', 'the model', flat) as JsonOptions;

/** model.toJSON(): the readable form (JSON.stringify(model) calls it with a key; ignored). */
export function modelToJSON(model: Model, options?: SaveOptions | string): ModelJSON {
  const saved = snapshot('toJSON', model, typeof options === 'string' ? undefined : options);
  const json: ModelJSON = {
    format: 'nalu-wasm',
    version: FORMAT_VERSION,
    options: jsonOptions(saved.options),
    layers: saved.layers.map((l) => ({
      type: l.type,
      inputs: l.inputs,
      outputs: l.outputs,
      options: jsonOptions(l.options),
      params: Object.fromEntries(l.params.map(([name, a]) => [name, jsonTensor(a)])),
    })),
  };
  const o = saved.optimizer;
  if (o) {
    const grouped = (flat: Float32Array[]) => {
      let i = 0;
      return saved.layers.map((l) => Object.fromEntries(l.params.map(([name]) => [name, jsonTensor(flat[i++]!)])));
    };
    json.optimizer = { kind: o.kind, step: o.step, settings: Object.fromEntries(o.settings), m: grouped(o.m), v: grouped(o.v) };
  }
  return json;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** `v` as a record with only `keys` (all of them when `keys` is undefined) and the `required` ones. */
function record(what: string, where: string, v: unknown, keys: readonly string[] | undefined, required: readonly string[]): Record<string, unknown> {
  if (!isPlainObject(v)) fail(`${what}: ${where} must be an object, got ${describe(v)}`);
  // a copy, each field read once (an object built in code may have getters); no prototype, so
  // that a field named __proto__ stays a field
  const copy = Object.create(null) as Record<string, unknown>;
  for (const key of Object.keys(v)) {
    if (keys && !keys.includes(key)) fail(`${what}: ${where} has the unknown field ${describe(key)} (expected ${keys.join(', ')})`);
  }
  for (const key of keys ?? Object.keys(v)) {
    if (Object.hasOwn(v, key)) copy[key] = v[key];
  }
  for (const key of required) {
    if (copy[key] === undefined) fail(`${what}: ${where} has no field ${key}`);
  }
  return copy;
}

function tensorFromJson(what: string, where: string, v: unknown): Float32Array {
  if (!Array.isArray(v)) fail(`${what}: ${where} must be an array of numbers, got ${describe(v)}`);
  // every element read once and checked before the array is made: a sparse array's length costs nothing
  const value = (i: number): number => {
    const e: unknown = v[i];
    if (typeof e === 'number') {
      const x = Math.fround(e);
      if (!Number.isFinite(x)) fail(`${what}: ${where} holds ${e} at index ${i}, beyond the range of f32`);
      return x;
    }
    if (typeof e === 'string' && Object.prototype.hasOwnProperty.call(SPECIAL, e)) return SPECIAL[e]!;
    return fail(`${what}: ${where} holds ${describe(e)} at index ${i}; expected a number or one of "NaN", "Infinity", "-Infinity", "-0"`);
  };
  const values: number[] = [];
  for (let i = 0; i < v.length; i++) values.push(value(i));
  return Float32Array.from(values);
}

/** JSON options (scalars and records of scalars) flattened. */
function optionsFromJson(what: string, where: string, v: unknown): FlatOptions {
  const rec = record(what, `the options of ${where}`, v, undefined, []);
  const flat: Array<[string, unknown]> = [];
  for (const [key, value] of Object.entries(rec)) {
    if (isPlainObject(value) && Object.keys(value).length) for (const [sub, w] of Object.entries(value)) flat.push([`${key}.${sub}`, w]);
    else flat.push([key, value]); // an empty or non-plain object is refused below
  }
  for (const [key, value] of flat) {
    if (typeof value !== 'number' && typeof value !== 'boolean' && typeof value !== 'string') {
      fail(`${what}: option ${key} of ${where} must be a number, boolean, string or a record of them, got ${isPlainObject(value) && !Object.keys(value).length ? 'an empty object' : describe(value)}`);
    }
  }
  return flat as FlatOptions;
}

/** Validates the JSON form's structure and decodes it. */
export function decodeJSON(what: string, input: unknown): SavedModel {
  let json = input;
  if (typeof input === 'string') {
    try {
      json = JSON.parse(input);
    } catch (err) {
      fail(`${what}: the text is not valid JSON (${(err as Error).message})`);
    }
  }
  if (!isRecord(json) || ArrayBuffer.isView(json)) fail(`${what}: expected the object model.toJSON() returns, or its JSON text, got ${typeof input === 'string' ? describe(json) : describeInput(json, 'fromJSON')}`);
  if (json.format !== 'nalu-wasm') fail(`${what}: not a nalu-wasm model: format is ${describe(json.format)}, expected "nalu-wasm"`);
  const version = json.version;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
    fail(`${what}: version must be a positive integer, got ${describe(version)}`);
  }
  if (version > FORMAT_VERSION) {
    fail(`${what}: format version ${version} is newer than this version of nalu-wasm reads (1 to ${FORMAT_VERSION}): load it with a newer nalu-wasm`);
  }
  const top = record(what, 'the model', json, ['format', 'version', 'options', 'layers', 'optimizer'], ['options', 'layers']);
  const options = optionsFromJson(what, 'the model', top.options);
  const raws = top.layers;
  if (!Array.isArray(raws) || raws.length === 0) fail(`${what}: layers must be a non-empty array, got ${describe(raws)}`);
  if (raws.length > MAX_LAYERS) fail(`${what}: the model has ${raws.length} layers, more than the ${MAX_LAYERS} a model may have`);
  // by index, not map(): a hole in the array is a missing layer, not one to skip
  const layers = Array.from({ length: raws.length }, (_, k): SavedLayer => {
    const l = record(what, `layer ${k}`, raws[k], ['type', 'inputs', 'outputs', 'options', 'params'], ['type', 'inputs', 'outputs', 'params']);
    if (typeof l.type !== 'string') fail(`${what}: the type of layer ${k} must be a string, got ${describe(l.type)}`);
    const params = record(what, `the params of layer ${k}`, l.params, undefined, []);
    const names = Object.keys(params).length;
    if (names > MAX_LAYER_TENSORS) fail(`${what}: the params of layer ${k} name ${names} tensors, more than the ${MAX_LAYER_TENSORS} a layer may hold`);
    return {
      type: l.type,
      inputs: l.inputs as number,
      outputs: l.outputs as number,
      options: l.options === undefined ? [] : optionsFromJson(what, `layer ${k}`, l.options),
      params: Object.entries(params).map(([name, a]) => [name, tensorFromJson(what, `${name} of layer ${k}`, a)]),
    };
  });
  let optimizer: SavedOptimizer | undefined;
  if (top.optimizer !== undefined) {
    const keys = ['kind', 'step', 'settings', 'm', 'v'];
    const o = record(what, 'optimizer', top.optimizer, keys, keys);
    if (typeof o.kind !== 'string') fail(`${what}: optimizer.kind must be a string, got ${describe(o.kind)}`);
    if (typeof o.step !== 'number') fail(`${what}: optimizer.step must be a number, got ${describe(o.step)}`);
    const settings = Object.entries(record(what, 'optimizer.settings', o.settings, undefined, []));
    for (const [key, value] of settings) {
      if (typeof value !== 'number') fail(`${what}: optimizer.settings.${key} must be a number, got ${describe(value)}`);
    }
    // The moments: per layer, named as the params, in the params' order.
    const flat = (name: 'm' | 'v'): Float32Array[] => {
      const w = o[name];
      if (!Array.isArray(w) || w.length !== layers.length) {
        fail(`${what}: optimizer.${name} must be an array of ${layers.length} records (one per layer), got ${describe(w)}`);
      }
      return layers.flatMap((l, k) => {
        const names = l.params.map(([n]) => n);
        const rec = record(what, `optimizer.${name}[${k}]`, w[k], undefined, []);
        const keys = Object.keys(rec);
        if (keys.length !== names.length || !names.every((n) => Object.hasOwn(rec, n))) {
          fail(`${what}: optimizer.${name}[${k}] has the tensors ${keys.join(', ') || 'none'} but the params of layer ${k} are ${names.join(', ') || 'none'}; the moments must name the params`);
        }
        return names.map((n) => tensorFromJson(what, `optimizer.${name} ${n} of layer ${k}`, rec[n]));
      });
    };
    optimizer = { kind: o.kind, step: o.step, settings: settings as Array<[string, number]>, m: flat('m'), v: flat('v') };
  }
  return { options, layers, optimizer };
}
