/** The raw exports of nalu-*.wasm (see assembly/index.ts). Addresses are byte offsets. */
export interface NaluExports {
  memory: WebAssembly.Memory;
  alloc(bytes: number): number;
  free(raw: number): void;
  modelPredict(model: number, batch: number): void;
  /** The sum of squared errors. */
  modelEvaluate(model: number, batch: number): number;
  modelGradients(model: number, batch: number): number;
  modelTrainStep(model: number, batch: number, opt: number, lr: number, beta1: number, beta2: number,
    eps: number, stepSize: number, bc2sqrt: number): number;
  /** Checks the x and target in the staging buffers and lays them out in the record at `staged` (Model.stageBatch). */
  modelStageBatch(model: number, staged: number, batch: number): void;
  /** After a call that trapped: gives the model its own buffers back from a staged batch it was using. */
  modelRecover(model: number): void;
  /** 1 when a staged batch of this model keeps the first layer's log(|x| + eps), else 0. */
  modelInputLogged(model: number): number;
  modelTrainBatch(model: number, staged: number, batch: number, opt: number, lr: number, beta1: number, beta2: number,
    eps: number, stepSize: number, bc2sqrt: number): number;
  /** Predicts the staged batch at `staged` into the y staging buffer (as modelPredict). */
  modelPredictBatch(model: number, staged: number, batch: number): void;
  /** The sum of squared errors of the staged batch at `staged` (as modelEvaluate). */
  modelEvaluateBatch(model: number, staged: number, batch: number): number;
  taskSeed(task: number, seed: number): void;
  taskFill(task: number, x: number, t64: number, scratch: number, batch: number): void;
  modelTrainTask(model: number, task: number, scratch: number, batch: number, opt: number, lr: number, beta1: number,
    beta2: number, eps: number, stepSize: number, bc2sqrt: number): number;
  /** Threads build: hands the main instance the pool's control block (see assembly/pool.ts). */
  poolSet(ctl: number, threads: number): void;
  /** Threads build: ends the workers' loops; later products run on the calling thread alone. */
  poolStop(): void;
  /** Threads build: a worker thread's loop; returns when the pool stops. */
  poolWork(ctl: number, thread: number): void;
  /** The threads in use: 1 without a pool, or once it stopped (poolStop, or a worker that failed). */
  poolThreads(): number;
  /** Threads build: called on a worker whose poolWork trapped; the main thread then runs alone. */
  poolFail(ctl: number, thread: number): void;
}

/** The builds: SIMD128, plain Wasm, and the opt-in relaxed-SIMD build (fused multiply-add). */
export type Backend = 'simd' | 'scalar' | 'relaxed';
/** A module file: a backend, or a SIMD build with threads (shared memory, imported). */
export type Build = Backend | 'threads' | 'relaxed-threads';

/** The module file that runs `backend` on `threads` threads (InitInfo's two fields). */
export function buildOf(backend: Backend, threads: number): Build {
  return threads <= 1 ? backend : backend === 'relaxed' ? 'relaxed-threads' : 'threads';
}
