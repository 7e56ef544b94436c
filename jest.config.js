/** @type {import('jest').Config} */
module.exports = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  roots: ['<rootDir>/tests'],
  testTimeout: 60000,
  // Drops the tfjs Node.js banner and ONNX Runtime's warnings (tests/setup/quiet.js says which, and why).
  setupFiles: ['<rootDir>/tests/setup/quiet.js'],
};
