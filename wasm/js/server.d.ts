// The full build's entry point has the same API as the main one.
export * from './index.js';
