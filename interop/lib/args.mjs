// Tiny `--name value` / `--flag` argument parser shared by the interop drivers and run.mjs.

/**
 * @param {string[]} argv  process.argv.slice(2)
 * @param {Record<string, string | boolean | undefined>} defaults  known options; booleans are flags
 * @returns {Record<string, string | boolean | undefined>}
 */
export function parseArgs(argv, defaults) {
  const out = { ...defaults };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const m = /^--([^=]+)(?:=(.*))?$/.exec(arg);
    if (!m || !(m[1] in defaults)) {
      throw new Error(`unknown argument ${arg}; known: ${Object.keys(defaults).join(', ')}`);
    }
    const name = m[1];
    if (typeof defaults[name] === 'boolean') {
      out[name] = m[2] === undefined ? true : m[2] !== 'false';
    } else if (m[2] !== undefined) {
      out[name] = m[2];
    } else {
      if (i + 1 >= argv.length) throw new Error(`--${name} needs a value`);
      out[name] = argv[++i];
    }
  }
  return out;
}

/** Splits a comma list option; undefined stays undefined. */
export function list(value) {
  return typeof value === 'string' && value !== '' ? value.split(',') : undefined;
}
