import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'out/**', 'node_modules/**', 'flink-jobs/**', '.pipeline/**', 'output/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-restricted-imports': 'off',
      eqeqeq: ['error', 'smart'],
      'no-console': 'off',
    },
  },
  {
    // The domains and the CLI stay free of VS Code: they are unit-tested in plain Node and the CLI runs there.
    files: ['src/{shared,config,kafka,flink,local,results,pipeline,cli}/**/*.ts', 'src/cli.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: ['vscode'] }] },
  },
);
