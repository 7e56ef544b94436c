/**
 * losses.* as in TensorFlow.js: composite functions over primitives (the fused softmax cross-entropy is a
 * primitive in nn.ts for numerical safety).
 */
export const losses = {};
