export * from './gradients';
export * from './jvp';
