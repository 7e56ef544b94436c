export * from './gradients';
export * from './jvp';
export * from './jacobian';
