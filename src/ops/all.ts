/** Every op builder in one namespace (used by the chainable methods); the public entry re-exports the same. */
export * from './elementwise';
export * from './unary';
export * from './compare';
export * from './movement';
export * from './indexing';
export * from './reduce';
export * from './linalg';
export * from './nn';
export * from './pool';
export * from './activation';
