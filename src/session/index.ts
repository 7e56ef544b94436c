export * from './session';
export * from './plan';
export * from './gradcheck';
export * from './backend';
export { missingFeedError } from './compile';
