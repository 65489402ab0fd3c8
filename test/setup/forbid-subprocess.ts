// Placeholder until src/exec/runner.ts exists; see test/exec/runner.test.ts.
export {};
