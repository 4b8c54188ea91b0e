import js from '@eslint/js';
import globals from 'globals';
import reactHooks from 'eslint-plugin-react-hooks';
import tseslint from 'typescript-eslint';

// The renderer is untrusted web content: it may only reach the main side through the typed API.
const forbiddenInRenderer = {
  paths: [
    {
      name: 'electron',
      message: 'The renderer talks to the main side only through the typed API (src-renderer/src/api).',
    },
    { name: 'better-sqlite3', message: 'Native modules run in the main process only.' },
    { name: 'onnxruntime-node', message: 'Native modules run in the main process only.' },
    { name: 'ws', message: 'Use the API client, not a Node WebSocket library.' },
  ],
  patterns: [
    { group: ['node:*'], message: 'Node built-ins are not available in the renderer.' },
    { group: ['**/src-main/**', '../../src-main/*'], message: 'The renderer may import src-shared, never src-main.' },
    {
      group: [
        'fs',
        'path',
        'os',
        'child_process',
        'crypto',
        'http',
        'https',
        'net',
        'worker_threads',
        'zlib',
        'stream',
        'url',
        'util',
      ],
      message: 'Node built-ins are not available in the renderer.',
    },
  ],
};

export default tseslint.config(
  {
    ignores: [
      // AssemblyScript: its own types (i32, v128), checked by its compiler (scripts/build-main.mjs).
      'src-main/engine/assembly/**',
      'dist/**',
      'native/**',
      'release/**',
      'node_modules/**',
      'training/**',
      'test-output/**',
      'models/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/require-await': 'off',
      'no-restricted-syntax': ['error', { selector: 'TSEnumDeclaration', message: 'Use a union of string literals.' }],
    },
  },
  {
    files: ['src-main/**/*.ts', 'scripts/**', 'bench/**', 'test/**', 'bin/**', '*.js', '*.ts'],
    languageOptions: { globals: globals.node },
  },
  {
    files: ['src-renderer/**/*.{ts,tsx}', 'src-shared/**/*.ts'],
    languageOptions: { globals: globals.browser },
    plugins: { 'react-hooks': reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      'no-restricted-imports': ['error', forbiddenInRenderer],
    },
  },
  {
    // node:test's test() returns a promise the runner itself awaits.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-floating-promises': 'off' },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
);
