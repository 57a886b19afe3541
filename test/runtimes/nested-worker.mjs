// A page's own module Worker that trains with init({ threads: 2 }): the pool's workers are then
// nested workers. Takes the package entry's URL as its message (a worker has no import map) and
// answers { crossOriginIsolated, threads, same }: whether two threads gave one thread's losses
// and predictions, to the bit, on a product large enough to be shared.
onmessage = async ({ data: entry }) => {
  try {
    const nalu = await import(entry);
    const x = Float32Array.from({ length: 64 * 512 }, (_, i) => Math.sin(i));
    const t = Float32Array.from({ length: 64 * 512 }, (_, i) => Math.cos(i));
    const run = async (threads) => {
      const info = await nalu.init({ threads });
      const model = nalu.sequential([nalu.nalu({ inputs: 64, outputs: 64 })], { seed: 3 }), opt = nalu.adam();
      const values = [model.trainStep(x, t, opt), model.trainStep(x, t, opt), ...model.predict(x)];
      model.dispose();
      return { threads: info.threads, values };
    };
    const two = await run(2), one = await run(1);
    postMessage({ crossOriginIsolated: self.crossOriginIsolated, threads: two.threads, same: two.values.every((v, i) => Object.is(v, one.values[i])) });
  } catch (err) {
    postMessage({ error: String(err && err.stack ? err.stack : err) });
  }
};
