export * from './pass';
export * from './slice';
export * from './prune';
export * from './fold';
export * from './clock';
