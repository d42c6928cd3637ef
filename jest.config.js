// Four projects: "unit" needs nothing but Node (decision logic, constructs, synth output); "package" runs the
// toolkit the way its users do (`cdk8s synth` in a fresh clone, the packed library in an app of its own); "integration" runs
// against the real kube-apiserver, etcd and PostgreSQL that test/control-plane builds and starts; "e2e" deploys
// what the toolkit generates onto a real node (test/node/) and runs the agent image there.
// Type checking is done once by `npm run build`; jest only transpiles.
const transform = { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] };
// Compiled output and synthesized manifests are not sources; keep jest's module map free of them.
const modulePathIgnorePatterns = ['<rootDir>/build/', '<rootDir>/lib/', '<rootDir>/dist/'];
module.exports = {
  // Integration tests start processes and wait for failovers; each sets tighter waits of its own where it matters.
  testTimeout: 120000,
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      transform,
      modulePathIgnorePatterns,
      testMatch: ['<rootDir>/test/unit/**/*.test.ts', '<rootDir>/test/synth/**/*.test.ts'],
    },
    {
      // The repository as users get it: `cdk8s synth` in a fresh copy, `npm pack` installed into an app outside it.
      displayName: 'package',
      testEnvironment: 'node',
      transform,
      modulePathIgnorePatterns,
      testMatch: ['<rootDir>/test/package/**/*.test.ts'],
    },
    {
      displayName: 'integration',
      testEnvironment: 'node',
      transform,
      modulePathIgnorePatterns,
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      globalSetup: '<rootDir>/test/fixtures/global-setup.ts',
      globalTeardown: '<rootDir>/test/fixtures/global-teardown.ts',
    },
    {
      // The generated objects on a real node: kubelet, containerd, kube-proxy (test/node/).
      displayName: 'e2e',
      testEnvironment: 'node',
      transform,
      modulePathIgnorePatterns,
      testMatch: ['<rootDir>/test/e2e/**/*.test.ts'],
      globalSetup: '<rootDir>/test/e2e/global-setup.ts',
      globalTeardown: '<rootDir>/test/e2e/global-teardown.ts',
    },
  ],
};
