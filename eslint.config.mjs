// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** I/O libraries @pay/core may never import (DESIGN.md §1): core defines ports, other packages implement them. */
const CORE_FORBIDDEN_IMPORTS = [
  'express',
  'drizzle-orm',
  'postgres',
  '@electric-sql/pglite',
  'stripe',
  'winston',
  'prom-client',
  'fs',
  'node:fs',
  'net',
  'node:net',
  'http',
  'node:http',
  'https',
  'node:https',
  'child_process',
  'node:child_process',
];

const NO_FOREIGN_SRC = {
  group: ['@pay/*/src', '@pay/*/src/*'],
  message: "Import a package by its name and exports map, never another package's src/.",
};

export default tseslint.config(
  {
    ignores: [
      '**/dist/**',
      '**/node_modules/**',
      '**/coverage/**',
      '**/.turbo/**',
      '**/.pay/**',
      '**/test/fixtures/lint/**',
      '**/*.js',
      '**/*.cjs',
      '**/*.mjs',
      'drizzle.config.ts',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      curly: ['error', 'all'],
      eqeqeq: ['error', 'always'],
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-non-null-assertion': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': ['error', { patterns: [NO_FOREIGN_SRC] }],
    },
  },
  {
    // Tests may use expect.any() and friends, whose types are `any` by design.
    files: ['**/*.test.ts', '**/test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/unbound-method': 'off',
    },
  },
  {
    // Lint fixtures are deliberately broken files that tests feed to ESLint; they are in no tsconfig.
    files: ['**/test/fixtures/lint/**/*.ts'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { parserOptions: { projectService: false, project: null } },
  },
  {
    // The dependency rule (DESIGN.md §1): core holds the domain and the ports, and touches no I/O.
    files: ['packages/core/src/**/*.ts', 'packages/core/test/fixtures/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: CORE_FORBIDDEN_IMPORTS.map((name) => ({
            name,
            message: '@pay/core imports no I/O library: declare a port in core and implement it elsewhere.',
          })),
          patterns: [
            NO_FOREIGN_SRC,
            {
              group: ['drizzle-orm/*', '@electric-sql/pglite/*', 'stripe/*', 'express/*', 'winston/*'],
              message: '@pay/core imports no I/O library: declare a port in core and implement it elsewhere.',
            },
            { group: ['@pay/*', '!@pay/core'], message: '@pay/core depends on no other pay package.' },
          ],
        },
      ],
      'no-restricted-properties': [
        'error',
        {
          object: 'process',
          property: 'env',
          message: '@pay/core never reads the environment: configuration arrives through @pay/runtime.',
        },
      ],
      'no-restricted-globals': ['error', { name: 'fetch', message: '@pay/core makes no network calls.' }],
    },
  },
  {
    // Adapters implement core's ports side by side; they never reach into each other or into an app.
    files: ['packages/db/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            NO_FOREIGN_SRC,
            {
              group: ['@pay/stripe-adapter', '@pay/api', '@pay/cli', '@pay/runtime'],
              message: '@pay/db depends only on @pay/core.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['packages/stripe-adapter/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            NO_FOREIGN_SRC,
            {
              group: ['@pay/db', '@pay/api', '@pay/cli', '@pay/runtime'],
              message: '@pay/stripe-adapter depends only on @pay/core.',
            },
          ],
        },
      ],
    },
  },
  {
    // The sandbox is a test fixture of the adapter (a devDependency), never part of what it ships.
    files: ['packages/stripe-adapter/src/**/*.ts'],
    ignores: ['packages/stripe-adapter/src/**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            NO_FOREIGN_SRC,
            {
              group: ['@pay/db', '@pay/api', '@pay/cli', '@pay/runtime', '@pay/stripe-sandbox'],
              message: '@pay/stripe-adapter depends only on @pay/core (the sandbox is for its tests).',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['packages/runtime/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            NO_FOREIGN_SRC,
            { group: ['@pay/api', '@pay/cli'], message: 'Apps depend on the runtime, not the reverse.' },
          ],
        },
      ],
    },
  },
  {
    files: ['apps/api/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [NO_FOREIGN_SRC, { group: ['@pay/cli'], message: 'Apps never import each other.' }] },
      ],
    },
  },
  {
    files: ['apps/cli/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [NO_FOREIGN_SRC, { group: ['@pay/api'], message: 'Apps never import each other.' }] },
      ],
    },
  },
);
