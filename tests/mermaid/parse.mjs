// Parses Mermaid diagrams with mermaid's own parser, as a browser would.
// Usage: node parse.mjs FILE...  A file is one diagram, or Markdown whose
// ```mermaid fenced blocks are each one diagram. Prints "ok N" per file with
// the number of diagrams parsed; exits 1 if any diagram fails.
import { readFileSync } from 'node:fs';
import { JSDOM } from 'jsdom';

const dom = new JSDOM('<!DOCTYPE html><html><body></body></html>');
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const { default: mermaid } = await import('mermaid');

let failed = 0;
for (const file of process.argv.slice(2)) {
  const text = readFileSync(file, 'utf8');
  const fenced = [...text.matchAll(/```mermaid\n([\s\S]*?)```/g)].map((m) => m[1]);
  const diagrams = fenced.length > 0 ? fenced : [text];
  let ok = 0;
  for (const diagram of diagrams) {
    try {
      await mermaid.parse(diagram);
      ok++;
    } catch (e) {
      failed++;
      console.log(`FAIL ${file}: ${String(e.message || e).split('\n').slice(0, 3).join(' ')}`);
    }
  }
  console.log(`ok ${ok} ${file}`);
}
process.exit(failed ? 1 : 0);
