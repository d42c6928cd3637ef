// `npm run lint` (with `prettier --check .`). typescript-eslint's strict type-checked rules, relaxed only where this
// code base has a deliberate pattern the rule cannot tell from a mistake; each relaxation says why.
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
  {
    // Generated, installed or run output, not source (as in .gitignore). Plain JavaScript (jest.config.js, a helper
    // run by node) is not type-checked.
    ignores: ['build/', 'lib/', 'dist/', 'node_modules/', 'templates/', 'cdk8s.out/', 'coverage/', '.sandbox/', '**/*.js', '**/*.mjs', '!eslint.config.mjs'],
  },
  tseslint.configs.strictTypeChecked,
  {
    // A disable comment that no longer suppresses anything is an error, so none outlives its reason.
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // Indexing after a length or `find` check is deliberate in this code base: with noUncheckedIndexedAccess
      // (tsconfig.json) each such place carries a `!`, and no-unnecessary-type-assertion still reports one not needed.
      '@typescript-eslint/no-non-null-assertion': 'off',
      // Numbers and booleans in messages and paths print as intended; nullish and objects stay errors.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      // `(err) => reject(err)`: an arrow's expression body returns its value only by syntax.
      '@typescript-eslint/no-confusing-void-expression': ['error', { ignoreArrowShorthand: true }],
      // The code edits JSON documents held as plain records (merge patch, generated manifests): deleting a key is the
      // operation itself, and a Map does not serialize as one.
      '@typescript-eslint/no-dynamic-delete': 'off',
      // A reject passes on what a callee threw or an abort reason unchanged, as a rethrow would.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingAny: true, allowThrowingUnknown: true }],
      // As tsc's noUnusedParameters: a leading `_` marks a parameter kept for the signature; a rest sibling is how a
      // key is left out of a copy (`const { password: _, ...rest } = o`).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', ignoreRestSiblings: true }],
      // Added to the set: a switch on a union names every member (or has a default), so a new kind of action or
      // step cannot fall through unhandled.
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      // Objects that call each other are wired through a `let` that closures read (`loop?.wake()`) before it is
      // assigned; as a `const` it would be in its temporal dead zone then.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
    },
  },
  {
    // Tests and benchmarks, not the product.
    files: ['test/**', 'bench/**'],
    rules: {
      // They read JSON from the API server and synthesized manifests as `any`, and assert on its shape with expect.
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      // Teardown guards variables that a failed beforeAll left unset, and poll loops test flags that another callback
      // flips; the rule sees neither (the static types say "always set", "always false").
      '@typescript-eslint/no-unnecessary-condition': 'off',
      // Stubs of Promise-returning interfaces and eventually() probes are async without awaiting, so that a throw
      // becomes a rejection, as in the real implementation.
      '@typescript-eslint/require-await': 'off',
    },
  },
  // This file is not part of the TypeScript project.
  { ...tseslint.configs.disableTypeChecked, files: ['eslint.config.mjs'] },
);
