import './chain';

export * from './attrs';
export * from './record';
export * from './registry';
export * from './elementwise';
export * from './unary';
export * from './compare';
export * from './movement';
export * from './indexing';
export * from './reduce';
export * from './linalg';
export * from './nn';
export * from './state';
export * from './random';
export * from './losses';
export * from './custom';
export * from './fused';
export * from './fusedmatmul';
