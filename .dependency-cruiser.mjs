// The import structure `npm run lint` enforces (dependency-cruiser over packages/*/src, type-only
// imports included): no import circle anywhere, the package floors (core at the bottom, the CLI on
// top), and the broker's layers (handlers see the session through session/session.ts, never the
// Connection class; only the broker's assembly points reach into the engine and the store).
/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment:
        'An import circle (type-only imports count): split the shared part into a lower file.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'core-imports-nothing-of-ours',
      severity: 'error',
      comment: 'The protocol core is the ground floor: it imports no other package of ours.',
      from: { path: '^packages/core/' },
      to: { path: '^packages/(?!core/)' },
    },
    {
      name: 'client-stands-on-core-only',
      severity: 'error',
      comment: 'Client users never install broker or CLI code.',
      from: { path: '^packages/client/' },
      to: { path: '^packages/(broker|cli|testkit)/' },
    },
    {
      name: 'broker-stands-on-core-only',
      severity: 'error',
      from: { path: '^packages/broker/' },
      to: { path: '^packages/(client|cli|testkit)/' },
    },
    {
      name: 'handlers-use-the-session-interface',
      severity: 'error',
      comment:
        'Command handlers depend on the Session interface (session/session.ts), not on the ' +
        'Connection class that implements it.',
      from: { path: '^packages/broker/src/handlers/' },
      to: { path: '^packages/broker/src/session/connection\\.ts$' },
    },
    {
      name: 'session-layer-talks-to-the-engine-seam',
      severity: 'error',
      comment:
        'The session layer (session/, handlers/) only knows the Engine interface (engine.ts), ' +
        'never an engine or store implementation.',
      from: { path: '^packages/broker/src/(session|handlers)/' },
      to: { path: '^packages/broker/src/(engine|store)/' },
    },
    {
      name: 'engine-internals-stay-inside',
      severity: 'error',
      comment:
        'Outside the engine folder, only the broker assembly (broker.ts) and the export lists ' +
        'import from it, and only its entry file; the internal export list may reach its parts.',
      from: {
        path: '^packages/broker/src/',
        pathNot: '^packages/broker/src/(engine/|internal\\.ts$)',
      },
      to: {
        path: '^packages/broker/src/engine/',
        pathNot: '^packages/broker/src/engine/(memory|local)\\.ts$',
      },
    },
    {
      name: 'engine-entry-only-for-assembly',
      severity: 'error',
      from: {
        path: '^packages/broker/src/',
        pathNot: '^packages/broker/src/(engine/|store/|broker\\.ts$|index\\.ts$|internal\\.ts$)',
      },
      to: { path: '^packages/broker/src/engine/' },
    },
  ],
  options: {
    doNotFollow: { path: ['node_modules', '/dist/'] },
    exclude: { path: ['/dist-test/', '/test/'] },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.base.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'types', 'default'],
      extensions: ['.ts', '.js', '.mjs', '.d.ts'],
    },
  },
};
