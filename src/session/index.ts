export * from './session';
export * from './plan';
export * from './gradcheck';
