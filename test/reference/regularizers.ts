// Sparsity regularisers of NAU and NMU (Madsen & Johansen 2020), on the raw W (the layers project
// W into range after each optimizer step, so raw and clamped agree during training):
//   NAU: R = mean(min(|W|, 1 - |W|))
//   NMU: R = mean(min(W, 1 - W))
// Subgradients at the kinks, chosen as PyTorch's autograd gives them for the expression written
// with torch.abs and torch.minimum (as stable-nalu writes it):
//   - |W| at W = 0: sign(0) = 0, so the NAU gradient is 0 at W = 0;
//   - min(a, b) at a tie (|W| = 0.5 for NAU, W = 0.5 for NMU): torch.minimum splits the gradient
//     evenly between its arguments, so the two slopes +1 and -1 average to 0.
// Away from the kinks: NAU dR/dW = sign(W) / n for |W| < 0.5, -sign(W) / n for |W| > 0.5;
// NMU dR/dW = 1 / n for W < 0.5, -1 / n for W > 0.5 (n = number of weights).

export function refNauReg(W: Float64Array): { r: number; grad: Float64Array } {
  const n = W.length;
  const grad = new Float64Array(n);
  let sum = 0;
  for (let j = 0; j < n; j++) {
    const a = Math.abs(W[j]);
    const s = W[j] > 0 ? 1 : W[j] < 0 ? -1 : 0;
    const u = 1 - a;
    sum += Math.min(a, u);
    grad[j] = (a < u ? s : a > u ? -s : 0) / n;
  }
  return { r: n === 0 ? 0 : sum / n, grad };
}

export function refNmuReg(W: Float64Array): { r: number; grad: Float64Array } {
  const n = W.length;
  const grad = new Float64Array(n);
  let sum = 0;
  for (let j = 0; j < n; j++) {
    const u = 1 - W[j];
    sum += Math.min(W[j], u);
    grad[j] = (W[j] < u ? 1 : W[j] > u ? -1 : 0) / n;
  }
  return { r: n === 0 ? 0 : sum / n, grad };
}
