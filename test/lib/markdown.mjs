// Code blocks of the documentation (README.md and docs/*.md), for the tests that run them.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const root = new URL('../..', import.meta.url).pathname;

/** README.md, then docs/*.md in name order: paths relative to the repository root. */
export function documents() {
  const docs = readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => `docs/${name}`);
  return ['README.md', ...docs];
}

/**
 * The fenced code blocks of a Markdown file, in order: `{ lang, meta, line, text }`, where `lang`
 * is the info string's first word (`js`), `meta` the rest (`browser` in ```` ```js browser ````:
 * code for a page, not for node), and `line` the 1-based line of the block's first content line.
 * A fence may be indented (inside a list item); the indent is removed from its lines.
 */
export function codeBlocks(path) {
  const lines = readFileSync(join(root, path), 'utf8').split('\n');
  const blocks = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^( *)```(\w*)([^`]*)$/.exec(lines[i]);
    if (open === null) continue;
    const indent = open[1].length;
    const body = [];
    let j = i + 1;
    while (j < lines.length && !/^ *```\s*$/.test(lines[j])) {
      body.push(lines[j].slice(Math.min(indent, /^ */.exec(lines[j])[0].length)));
      j++;
    }
    if (j === lines.length) throw new Error(`${path}:${i + 1}: unclosed code block`);
    blocks.push({ lang: open[2], meta: open[3].trim(), line: i + 2, text: body.join('\n') });
    i = j;
  }
  return blocks;
}

/**
 * The file a block stands for, when its first line names one: `# broker.yaml` (YAML),
 * `// app.js` (JavaScript), `<!-- index.html -->` (HTML); undefined otherwise.
 */
export function fileName(block) {
  const first = block.text.split('\n')[0];
  const named =
    /^# ([\w.-]+\.(?:yaml|yml|json))\s*$/.exec(first) ??
    /^\/\/ ([\w.-]+\.m?js)\s*$/.exec(first) ??
    /^<!-- ([\w.-]+\.html) -->\s*$/.exec(first);
  return named?.[1];
}

/** `[command, comment]`: `text` split at its shell comment (a `#` that starts a word outside quotes). */
export function splitShellComment(text) {
  let quote = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote !== '') {
      if (c === quote) quote = '';
      else if (c === '\\' && quote === '"') i++;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === '\\') i++;
    else if (c === '#' && (i === 0 || /\s/.test(text[i - 1]))) {
      return [text.slice(0, i).trim(), text.slice(i + 1).trim()];
    }
  }
  return [text.trim(), ''];
}

/**
 * The commands of a shell block: one per line, `\`-continued lines joined, blank and comment-only
 * lines left out. Each is `{ line, text, command, comment }`: `text` as written, `command`
 * without its comment.
 */
export function shellCommands(block) {
  const out = [];
  const lines = block.text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let text = lines[i];
    while (/\\$/.test(text) && i + 1 < lines.length) text = `${text}\n${lines[++i]}`;
    const [command, comment] = splitShellComment(text);
    if (command !== '') out.push({ line: block.line + start, text: text.trim(), command, comment });
  }
  return out;
}
