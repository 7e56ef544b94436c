// Chain methods of the conv / pool / normalization builders take the builder's arguments after x, typed as it.
import { conv3d, Graph, maxPool3d, Tensor } from 'lazygrad';

const g = new Graph();
const x = g.placeholder('x', [2, 8, 8, 3]);
const normalized: Tensor = x.batchNorm([0, 0, 0], [1, 1, 1], null, [1, 2, 3], 0.01);
const lrn: Tensor = x.localResponseNormalization(2, 1, 0.5, 0.75);
const pooled: Tensor = x.pool([2, 2], 'max', 'same', 1, 2).conv2d(g.placeholder('f', [3, 3, 3, 4]), 1, 'same');
normalized.add(lrn).add(pooled);

// The 3-D builders are functions (tfjs has no chained conv3d or maxPool3d either).
const volume = g.placeholder('v', [1, 4, 4, 4, 2]);
maxPool3d(conv3d(volume, g.placeholder('k', [2, 2, 2, 2, 3]), 1, 'same', 'NDHWC', [1, 1, 1]), 2, 2, 'valid', 'ceil');

// The types are tight:
// @ts-expect-error poolingType is 'max' or 'avg'
x.pool([2, 2], 'min', 'same');
// @ts-expect-error batchNorm needs the mean and the variance
x.batchNorm([0, 0, 0]);
// @ts-expect-error conv3d's strides are a number or three numbers
conv3d(volume, g.placeholder('k2', [2, 2, 2, 2, 3]), [1, 1], 'same');
// @ts-expect-error dimRoundingMode is 'floor', 'round' or 'ceil'
maxPool3d(volume, 2, 2, 1, 'up');
