// The export surface of the module. Everything takes and returns plain numbers and byte
// addresses into linear memory; the host (src/) calls these. The descriptor layout's constants
// are exported so that the host reads them instead of repeating them (src/wasm/layout.ts); the
// codes it still writes by hand (layer types, flags, activations, task kinds and ops) are checked
// against their declarations by test/module-constants.test.ts.

export { alloc, free } from "./memory";
export {
  H_NLAYERS, H_NPARAM, H_PARAMS, H_GRADS, H_MOM1, H_MOM2, H_XROW, H_TROW, H_YROW, H_X, H_T, H_DY,
  H_WVALID, H_STATUS, H_STATUS_ARG, H_OPTIONS, H_LAMBDA, H_CLIP, H_WORDS,
  L_TYPE, L_IN, L_OUT, L_FLAGS, L_EPS, L_ACT, L_OMEGA, L_X, L_Y, L_DX, L_DY, L_E, L_EM, L_LOG, L_A, L_M, L_T, L_T2,
  L_T3, L_DE, L_DEM, L_TMP, L_WC, L_WCM, L_P, L_G, L_WORDS,
  FEATURES, S_OK, S_X_NONFINITE, S_T_NONFINITE, S_LOSS_NONFINITE, S_GRAD_NONFINITE, S_THREAD_FAILED, S_UPDATE_NONFINITE, O_ALLOW_NONFINITE,
} from "./memory";
export {
  modelPredict, modelEvaluate, modelGradients, modelTrainStep, modelStageBatch, modelTrainBatch, modelPredictBatch, modelEvaluateBatch, modelInputLogged, modelRecover, OPT_SGD, OPT_ADAM, OPT_RMSPROP,
} from "./model";
export { taskFill, taskSeed, modelTrainTask } from "./tasks";
export { poolSet, poolStop, poolWork, poolFail, poolThreads, POOL_BYTES, POOL_MAX } from "./pool";
