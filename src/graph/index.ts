export * from './dtype';
export * from './errors';
export * from './shape';
export * from './ndarray';
export * from './graph';
export * from './format';
export * from './clock';
export * from './rules';
