// require() of the ESM-only package (Node >= 20.19 loads ES modules without top-level await).
const nalu = require('nalu-wasm');
nalu.init().then((info) => {
  const m = nalu.sequential([nalu.nac({ inputs: 2, outputs: 1 })], { seed: 1 });
  const y = m.predict(new Float32Array([1, 2]), 1);
  console.log(`NALU-REQUIRE ${JSON.stringify({ backend: info.backend, y: Array.from(y), resolved: require.resolve('nalu-wasm') })}`);
}, (err) => {
  console.error(err);
  process.exit(1);
});
