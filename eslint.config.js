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

/** Every capability under the API, which the API and the layers above it may all import. */
const services = ['core', 'engine', 'footage', 'library', 'teaching', 'evaluation', 'jobs', 'export', 'similar'];

/**
 * The main side's layers, bottom up: each folder of src-main may import the folders listed for it (and
 * src-shared), never one above it or beside it. A back-edge is fixed by moving code to the layer that owns
 * it, not by an exception here.
 */
const mainLayers = {
  core: [],
  engine: ['core'],
  footage: ['core'],
  library: ['core', 'engine', 'footage'],
  // Teaching keeps its knowledge in the library; evaluation measures teaching (the few-shot benchmark).
  teaching: ['core', 'engine', 'footage', 'library'],
  evaluation: ['core', 'engine', 'footage', 'library', 'teaching'],
  jobs: ['core', 'engine', 'footage', 'library'],
  export: ['core', 'engine', 'footage', 'library'],
  similar: ['core', 'engine', 'library'],
  api: services,
  app: [...services, 'api'],
  server: [...services, 'api', 'app'],
  electron: [...services, 'api', 'app'],
  // `serve` and `open` start the review server.
  cli: [...services, 'api', 'app', 'server'],
};

const mainLayerRules = Object.entries(mainLayers).map(([folder, allowed]) => ({
  files: [`src-main/${folder}/**/*.ts`],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: Object.keys(mainLayers)
          .filter((other) => other !== folder && !allowed.includes(other))
          .map((other) => ({
            group: [`**/${other}/**`],
            message: `src-main/${folder} may import only ${allowed.join(', ') || 'src-shared'}${allowed.length ? ' and src-shared' : ''}, not ${other} (the layers in eslint.config.js): move the code to the layer that owns it.`,
          })),
      },
    ],
  },
}));

const noEnums = { selector: 'TSEnumDeclaration', message: 'Use a union of string literals.' };

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
      'no-restricted-syntax': ['error', noEnums],
    },
  },
  {
    // `usage` means the command line was called wrong (exit status 2): only the CLI may say so. A module that
    // refuses what an argument names throws its own code (src-shared/contract/errors.ts).
    files: ['src-main/**/*.ts'],
    ignores: ['src-main/cli/**'],
    rules: {
      'no-restricted-syntax': [
        'error',
        noEnums,
        {
          selector: "NewExpression[callee.name='AppError'] > Literal.arguments:first-child[value='usage']",
          message: "The 'usage' error code is the CLI's own: throw a code of this module's (ErrorCode).",
        },
      ],
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
  ...mainLayerRules,
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
