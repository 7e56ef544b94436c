export * from './gradients';
export * from './jvp';
export * from './jacobian';
export * from './remat';
