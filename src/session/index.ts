export * from './session';
export * from './plan';
export * from './gradcheck';
export { sessionKernels, unfusedUnder, type Backend, type SessionKernels } from '../backend';
export { missingFeedError } from './compile';
