// Lint that catches real problems, not style: promises nobody awaits or
// catches, RxJS misuse (async subscribers, unsafe takeUntil placement,
// subjects used after completion, ignored notifiers), and dead code.
// Type-aware: it reads tsconfig.json's program. `npm run lint`; part of `npm test`.
import js from '@eslint/js'
import rxjsX from 'eslint-plugin-rxjs-x'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  { ignores: ['**/dist/', 'node_modules/', 'docs/reference/', '.bench-out/', '.scratch/', 'coverage/', '**/*.mjs', '**/*.cjs'] },
  {
    files: ['**/*.ts'],
    extends: [js.configs.recommended, ...tseslint.configs.recommended],
    plugins: { 'rxjs-x': rxjsX },
    languageOptions: { parserOptions: { projectService: { allowDefaultProject: ['jest.config.ts'] }, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // Promises: a rejection nobody handles, or a promise where a callback expects void.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/return-await': ['error', 'in-try-catch'],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true }],
      // RxJS (eslint-plugin-rxjs-x): misuse that leaks or loses values.
      'rxjs-x/no-async-subscribe': 'error',
      'rxjs-x/no-create': 'error',
      'rxjs-x/no-ignored-notifier': 'error',
      'rxjs-x/no-ignored-takewhile-value': 'error',
      'rxjs-x/no-internal': 'error',
      'rxjs-x/no-redundant-notify': 'error',
      'rxjs-x/no-sharereplay': ['error', { allowConfig: true }],
      'rxjs-x/no-subject-unsubscribe': 'error',
      'rxjs-x/no-unsafe-subject-next': 'error',
      'rxjs-x/no-unsafe-takeuntil': 'error',
      'rxjs-x/no-topromise': 'error',
      'rxjs-x/throw-error': 'error',
      // The codebase's own style, not problems: `(a(), b())` sequences, `let` kept for symmetry, `any` at boundaries.
      '@typescript-eslint/no-unused-expressions': 'off',
      'prefer-const': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
)
