// Tests run on the compiled output (dist/), so worker threads and child processes load the
// same JavaScript the server runs. `npm test` compiles first.
export default {
  testEnvironment: 'node',
  roots: ['<rootDir>/dist/test'],
  testMatch: ['**/*.test.js'],
  transform: {},
  testTimeout: 60000,
  maxWorkers: 2,
};
