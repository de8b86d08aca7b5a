// The structure markdownlint does not check, over the Markdown files named on
// the command line (paths relative to the current directory, the repository
// root):
//   - every fenced code block is closed, by the fence meant to close it (an
//     open fence swallows the page: headings become code, images and
//     anchors disappear);
//   - every relative link and image points to a file or folder that exists;
//   - every #anchor, in the same file or another Markdown file, names a
//     heading there (GitHub's slugs) or an element with that id.
// Links with a scheme (https:, mailto:) are not followed: nothing is fetched.
// Exits 1 with one line per problem.
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import MarkdownIt from 'markdown-it';
import GithubSlugger from 'github-slugger';

const md = new MarkdownIt({ html: true });
const parsed = new Map();

function parse(file) {
  if (!parsed.has(file)) {
    const src = readFileSync(file, 'utf8');
    parsed.set(file, { src, lines: src.split('\n'), tokens: md.parse(src, {}) });
  }
  return parsed.get(file);
}

function inlineText(tok) {
  return (tok.children || [])
    .filter((c) => c.type === 'text' || c.type === 'code_inline')
    .map((c) => c.content)
    .join('');
}

const anchorCache = new Map();
function anchors(file) {
  if (anchorCache.has(file)) return anchorCache.get(file);
  const { src, tokens } = parse(file);
  const slugger = new GithubSlugger();
  const set = new Set();
  tokens.forEach((t, i) => {
    if (t.type === 'heading_open') set.add(slugger.slug(inlineText(tokens[i + 1])));
  });
  for (const m of src.matchAll(/<[a-z]+[^>]*\s(?:id|name)="([^"]+)"/gi)) set.add(m[1]);
  anchorCache.set(file, set);
  return set;
}

// A fence is closed when its block's last line is a closing fence of the
// same character, at least as long as the opening one. A fence left open
// does not always run to the end of the file: the next fence, meant to open
// another block, closes it instead, and from there on prose and code swap
// places. So a closing fence must also be followed by a blank line, another
// fence or the end of the file; text right after it means the pairing is off.
const FENCE = /^\s*(`{3,}|~{3,})/;
function fenceProblems(file) {
  const { lines, tokens } = parse(file);
  const problems = [];
  for (const t of tokens) {
    if (t.type !== 'fence') continue;
    const [start, end] = t.map;
    const last = (lines[end - 1] || '').trim();
    const ch = t.markup[0];
    const closed =
      end - 1 > start && last.length >= t.markup.length && [...last].every((c) => c === ch);
    if (!closed) {
      problems.push(`${file}:${start + 1}: the code fence opened here is never closed`);
      continue;
    }
    const next = lines[end];
    if (next !== undefined && next.trim() !== '' && !FENCE.test(next))
      problems.push(
        `${file}:${end}: this fence closes the block opened at line ${start + 1}, but text follows ` +
          'it at once: leave a blank line, or if it was meant to open a block, a fence is missing before it',
      );
  }
  return problems;
}

function links(file) {
  const { lines, tokens } = parse(file);
  const out = [];
  let line = 1; // inline tokens of table cells have no map: use the last block's line
  for (const t of tokens) {
    if (t.map) line = t.map[0] + 1;
    if (t.type !== 'inline') continue;
    for (const c of t.children) {
      if (c.type === 'link_open') out.push({ kind: 'link', target: c.attrGet('href'), line });
      if (c.type === 'image') out.push({ kind: 'image', target: c.attrGet('src'), line });
    }
  }
  // images written as HTML, outside code blocks
  const code = new Set();
  for (const t of tokens)
    if (t.type === 'fence' || t.type === 'code_block') for (let i = t.map[0]; i < t.map[1]; i++) code.add(i);
  lines.forEach((l, i) => {
    if (code.has(i)) return;
    for (const m of l.matchAll(/<img\s[^>]*src="([^"]+)"/gi)) out.push({ kind: 'image', target: m[1], line: i + 1 });
  });
  return out;
}

function checkLink(file, { kind, target, line }) {
  const where = `${file}:${line}`;
  if (!target) return [`${where}: empty ${kind} target`];
  if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//')) return [];
  const hash = target.indexOf('#');
  const rel = decodeURIComponent(hash < 0 ? target : target.slice(0, hash));
  const frag = hash < 0 ? null : decodeURIComponent(target.slice(hash + 1));
  const dest = rel === '' ? file : rel.startsWith('/') ? rel.slice(1) : path.join(path.dirname(file), rel);
  if (!existsSync(dest)) return [`${where}: ${kind} to ${target}: ${dest} does not exist`];
  if (kind === 'image' && !statSync(dest).isFile()) return [`${where}: image ${target} is not a file`];
  if (frag === null) return [];
  if (!dest.endsWith('.md')) return [`${where}: ${kind} to ${target}: an anchor into a file that is not Markdown`];
  if (!anchors(dest).has(frag)) return [`${where}: ${kind} to ${target}: no heading or id "${frag}" in ${dest}`];
  return [];
}

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: node links.mjs FILE.md...');
  process.exit(2);
}
const problems = [];
let checked = 0;
for (const file of files) {
  problems.push(...fenceProblems(file));
  for (const l of links(file)) {
    checked++;
    problems.push(...checkLink(file, l));
  }
}
for (const p of problems) console.error(p);
console.log(`docs links: ${files.length} files, ${checked} links and images, ${problems.length} problems`);
process.exit(problems.length ? 1 : 0);
