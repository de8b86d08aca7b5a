// fa_check.mjs - the Persian texts against docs/GLOSSARY.fa.md (ctest: fa_text).
//   node fa_check.mjs <source root>
// Plain node, no packages. Checks:
//   - ui/lang.js: Persian has every English key and no other, with the same
//     {placeholders} and every `code` span of the English, and its words are
//     Persian (or a name left as it is);
//   - docs/LESSON.fa.md and docs/GLOSSARY.fa.md (outside code fences): no
//     kasra on a Latin word or code, every inline code span that starts with
//     a sign rather than a letter or digit (/, -, ?, #, {, ") preceded by
//     U+200E, no Persian or Arabic-Indic digits anywhere, no Persian inside
//     a code block, and every code block the same as one in LESSON.md;
//   - those two, the page's Persian strings and scripts/demo: none of the
//     words the glossary's "نه این‌ها" column rules out.
// Prints every problem with its file and line; exits 1 if there is one.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import vm from 'node:vm';

const root = process.argv[2];
if (!root) {
  console.error('usage: node fa_check.mjs <source root>');
  process.exit(2);
}
const read = (rel) => readFileSync(join(root, rel), 'utf8');
const problems = [];
const problem = (where, what) => problems.push(`${where}: ${what}`);

const ARABIC_LETTER = '\\u0621-\\u063A\\u0641-\\u064A\\u067E\\u0686\\u0698\\u06A9\\u06AF\\u06CC\\u06C0';
const KASRA = '\u0650';
const LRM = '\u200E';
const NON_LATIN_DIGITS = /[\u06F0-\u06F9\u0660-\u0669\u066B]/; // Persian, Arabic-Indic, the Arabic decimal separator

// --- the page's words -------------------------------------------------------
const langSrc = read('ui/lang.js');
const sandbox = { window: {}, document: {}, navigator: {}, localStorage: {} };
const Lang = vm.runInNewContext(`${langSrc}\nLang;`, sandbox, { filename: 'ui/lang.js' });
const { en, fa } = Lang.STRINGS;
const placeholders = (s) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort().join(',');
const codeSpans = (s) => s.split('`').filter((_, i) => i % 2 === 1);
for (const key of Object.keys(en)) {
  if (!(key in fa)) {
    problem('ui/lang.js', `fa has no "${key}"`);
    continue;
  }
  if (placeholders(en[key]) !== placeholders(fa[key])) {
    problem('ui/lang.js', `"${key}": placeholders {${placeholders(en[key])}} in en, {${placeholders(fa[key])}} in fa`);
  }
  if (fa[key].split('`').length % 2 === 0) problem('ui/lang.js', `"${key}": an unclosed \` in fa`);
  const lost = codeSpans(en[key]).filter((c) => !codeSpans(fa[key]).includes(c));
  if (lost.length) problem('ui/lang.js', `"${key}": fa lost the code ${lost.map((c) => `\`${c}\``).join(', ')}`);
  // a translated text has Persian letters; one left as it is must be a name
  // (gather, Executor, wait_for: the same in both languages)
  const hasPersian = new RegExp(`[${ARABIC_LETTER}]`).test(fa[key]);
  if (!hasPersian && !/^[\w .{}()−×`:/-]*$/.test(fa[key])) problem('ui/lang.js', `"${key}": fa is not Persian: ${fa[key]}`);
  if (NON_LATIN_DIGITS.test(fa[key])) problem('ui/lang.js', `"${key}": Persian digits (write Latin digits)`);
}
for (const key of Object.keys(fa)) if (!(key in en)) problem('ui/lang.js', `fa has "${key}", en does not`);

// --- the Markdown rules -----------------------------------------------------
// Lines outside ``` fences, with their numbers.
function prose(text) {
  const lines = [];
  let fence = false;
  text.split('\n').forEach((line, i) => {
    if (/^\s*```/.test(line)) fence = !fence;
    else if (!fence) lines.push({ n: i + 1, line });
  });
  return lines;
}

// Inline code spans of one line: [{start, text}] (single backticks; a line
// with an odd number of them is reported).
function spans(line) {
  const out = [];
  let at = line.indexOf('`');
  while (at >= 0) {
    const end = line.indexOf('`', at + 1);
    if (end < 0) return null;
    out.push({ start: at, text: line.slice(at + 1, end) });
    at = line.indexOf('`', end + 1);
  }
  return out;
}

function checkMarkdown(rel) {
  const text = read(rel);
  text.split('\n').forEach((line, i) => {
    if (NON_LATIN_DIGITS.test(line)) problem(`${rel}:${i + 1}`, `Persian digits (write Latin digits): ${line.trim()}`);
  });
  // code and output blocks are the same in both languages (English comments, output whole)
  let fence = false;
  text.split('\n').forEach((line, i) => {
    if (/^\s*```/.test(line)) fence = !fence;
    else if (fence && new RegExp(`[${ARABIC_LETTER}]`).test(line)) {
      problem(`${rel}:${i + 1}`, `Persian inside a code block (comments stay English): ${line.trim()}`);
    }
  });
  for (const { n, line } of prose(text)) {
    const kasra = new RegExp(`[^${ARABIC_LETTER}]${KASRA}`, 'g');
    for (const m of line.matchAll(kasra)) {
      problem(`${rel}:${n}`, `a kasra on a Latin word or code: …${line.slice(Math.max(0, m.index - 12), m.index + 2)}…`);
    }
    const found = spans(line);
    if (found === null) {
      problem(`${rel}:${n}`, 'an unclosed inline code span');
      continue;
    }
    for (const s of found) {
      if (/^[^\p{L}\p{N}]/u.test(s.text) && line[s.start - 1] !== LRM) {
        problem(`${rel}:${n}`, `\`${s.text}\` starts with "${s.text[0]}": put U+200E before it`);
      }
    }
  }
}
checkMarkdown('docs/LESSON.fa.md');

// LESSON.fa.md's code and output blocks are LESSON.md's, whole: none dropped a line.
const blocks = (text) => [...text.matchAll(/^```[^\n]*\n([\s\S]*?)^```/gm)].map((m) => m[1]);
const enBlocks = new Set(blocks(read('docs/LESSON.md')));
for (const b of blocks(read('docs/LESSON.fa.md'))) {
  if (!enBlocks.has(b)) problem('docs/LESSON.fa.md', `a code block that LESSON.md does not have:\n${b}`);
}
checkMarkdown('docs/GLOSSARY.fa.md');

// --- one word for one idea --------------------------------------------------
// The glossary's table: | English | the word to use | words not to use |
const glossary = read('docs/GLOSSARY.fa.md');
const avoid = [];
for (const line of glossary.split('\n')) {
  const cells = line.split('|').map((c) => c.trim());
  if (cells.length !== 5 || /^-+$/.test(cells[1]) || cells[3] === 'نه این‌ها') continue;
  for (const w of cells[3].split('،').map((x) => x.trim()).filter(Boolean)) avoid.push({ w, use: cells[2] });
}
if (avoid.length < 5) problem('docs/GLOSSARY.fa.md', `the table names ${avoid.length} words to avoid: is it still there?`);

// a whole word: not inside another (a ZWNJ suffix such as ‌ها still counts)
const wordRe = (w) => new RegExp(`(?<![${ARABIC_LETTER}])${w}(?![${ARABIC_LETTER}])`, 'g');
function checkWords(where, text) {
  text.split('\n').forEach((line, i) => {
    for (const { w, use } of avoid) {
      if (wordRe(w).test(line)) problem(`${where}:${i + 1}`, `"${w}": the glossary says ${use}`);
    }
  });
}
checkWords('docs/LESSON.fa.md', read('docs/LESSON.fa.md'));
checkWords('scripts/demo', read('scripts/demo'));
for (const [key, s] of Object.entries(fa)) checkWords(`ui/lang.js fa "${key}"`, s);

if (problems.length) {
  console.log(problems.join('\n'));
  console.log(`fa_check: ${problems.length} problem(s)`);
  process.exit(1);
}
console.log(`fa_check: ok (${Object.keys(en).length} page strings in both languages, ` +
  `${avoid.length} words to avoid, LESSON.fa.md and GLOSSARY.fa.md follow the glossary)`);
