// Lint: typed rules for the whole tree, and the dependency rule of STYLE.md §7 —
// the inner parts never import a platform, web or Redis library.
import tseslint from 'typescript-eslint';

const edgeLibraries = ['express', 'telegraf', 'telegraf/*', 'wechaty', 'wechaty-*', 'wechaty/*', 'redis', '@redis/*', 'ioredis', 'openai', '@langchain/*', 'langchain'];

export default tseslint.config(
  { ignores: ['node_modules', 'public', 'dist'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['src/**'],
    ignores: ['src/bots/**'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{ group: ['telegraf', 'telegraf/*', 'wechaty', 'wechaty-*', 'wechaty/*'], message: 'Nothing of wechaty or telegraf is imported outside src/bots.' }],
      }],
    },
  },
  {
    files: ['src/flows/**', 'src/knowledge/**', 'src/handover/**', 'src/commerce/**', 'src/conversations/**', 'src/understanding/**'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{ group: edgeLibraries, message: 'Inner parts get narrow interfaces; platform, web and Redis libraries stay in src/bots, src/server and src/store (STYLE.md §7). This block comes last so it wins over the one above.' }],
      }],
    },
  },
);
