// Linting: ESLint's and typescript-eslint's recommended rules, type-aware, so
// that a promise nobody awaits or catches (no-floating-promises) is an error.
// Formatting is Biome's (biome.json); the layer rule is dependency-cruiser's.
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig(
  globalIgnores(['dist/', 'src/generated/']),
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      globals: globals.node,
      // Each file is checked with its own tsconfig.json (src/qapi/ has its own).
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        // node:test's test() and suite() return promises that the runner itself awaits.
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'suite', 'it', 'describe'] }] },
      ],
      // tsc checks unused names (noUnusedLocals, noUnusedParameters, with the `_` prefix for a required but unused parameter).
      '@typescript-eslint/no-unused-vars': 'off',
      // An async implementation of a promise-returning method may have nothing to await: it still turns a throw into a rejection.
      '@typescript-eslint/require-await': 'off',
      // A union may name the known values beside `string` to document them.
      '@typescript-eslint/no-redundant-type-constituents': 'off',
      // Terminal and monitor code matches control characters (ESC, ^A) on purpose.
      'no-control-regex': 'off',
      // A resource a cleanup callback closes is declared before the callback and assigned once it exists.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
    },
  },
  {
    // The web console's page runs in the browser.
    files: ['src/web/page/**'],
    languageOptions: { globals: globals.browser },
  },
  {
    // Tests feed the JSON parser numbers that a double cannot hold, as QEMU's tests do.
    files: ['test/**'],
    rules: { 'no-loss-of-precision': 'off' },
  },
  {
    // Plain JavaScript (scripts/, test hooks, this file) is outside the TypeScript projects.
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    extends: [tseslint.configs.disableTypeChecked],
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
