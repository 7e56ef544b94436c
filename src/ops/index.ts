import './chain';

export * from './record';
export * from './registry';
export * from './elementwise';
export * from './movement';
export * from './reduce';
export * from './linalg';
export * from './nn';
export * from './state';
