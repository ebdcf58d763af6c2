// Type-aware linting: typescript-eslint's strict type-checked rules, which need the TypeScript
// compiler's view of the code (a floating promise is only visible with types).
import tseslint from 'typescript-eslint';

export default tseslint.config(
  // Plain JavaScript (build scripts, benchmarks, esbuild stand-ins) is outside the TypeScript project.
  { ignores: ['build/', 'dist/', 'node_modules/', '.cache/', '**/*.mjs', '**/*.js'] },
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // node:test's test() and describe() return promises the runner itself waits for.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite'] },
          ],
        },
      ],
      // noUncheckedIndexedAccess (tsconfig) types every index as possibly undefined; `!` marks a
      // lookup the code has just made sure of, which reads better than a branch that cannot run.
      '@typescript-eslint/no-non-null-assertion': 'off',
      // Template literals with numbers are how the log lines are written.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
    },
  },
  {
    files: ['src/**/*.ts'],
    rules: {
      // A function longer than a screen hides a second job: factories too (their inner functions count).
      'max-lines-per-function': ['error', { max: 80 }],
      // And a module longer than a few screens holds a second module; a line wider than a diff pane is split.
      'max-lines': ['error', { max: 300 }],
      'max-len': ['error', { code: 120, ignoreUrls: true }],
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // An after() hook guards what a failed before() never set, which the declared types cannot say.
      '@typescript-eslint/no-unnecessary-condition': 'off',
    },
  },
);
