// --only / --skip: which cluster checks to run, as ONE regex for Jest's --testNamePattern.
// Jest matches the pattern (case-insensitively) against a test's full name: its describe titles
// and its own name, joined by spaces. Tags are not part of that name, so the tags are read from
// the specs' source: every check(...) / negativeControl(...) call, its describe titles, its name
// (template literals become wildcards, or are expanded over a `for (const x of ['a', 'b'])`
// loop) and its tags. A term then selects the checks whose full name contains it OR that carry
// it as a tag.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type TS from 'typescript';

export interface IndexedCheck {
  file: string;
  /** Full name as Jest sees it; a part not known statically is shown as "…". */
  fullName: string;
  /** Regex source matching exactly this full name (anchor it yourself). */
  pattern: string;
  tags: string[];
}

/** A piece of a name: literal text, or null for a part only known at run time. */
type Piece = string | null;

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const toPattern = (pieces: Piece[]) => pieces.map((p) => (p === null ? '.*' : escapeRe(p))).join('');
const toDisplay = (pieces: Piece[]) => pieces.map((p) => p ?? '…').join('');

const CHECK_CALLEES = new Set(['check', 'negativeControl', 'check.skip', 'negativeControl.skip']);

/** Reads every check of the given spec files. `ts` is the TypeScript module (loaded lazily: it is big). */
export function indexChecks(ts: typeof TS, files: { file: string; text: string }[]): IndexedCheck[] {
  const out: IndexedCheck[] = [];
  for (const { file, text } of files) {
    const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
    visit(sf, [], new Map());
    function visit(node: TS.Node, groups: Piece[][], loops: Map<string, string>): void {
      // for (const x of ['a', 'b'] [as const]) — remember x's values for names and tags
      if (ts.isForOfStatement(node)) {
        const decl = ts.isVariableDeclarationList(node.initializer) ? node.initializer.declarations[0] : undefined;
        const values = stringArray(node.expression);
        if (decl && ts.isIdentifier(decl.name) && values) {
          for (const v of values) visit(node.statement, groups, new Map(loops).set(decl.name.text, v));
          return;
        }
      }
      if (ts.isCallExpression(node)) {
        const callee = calleeName(node.expression);
        if (callee === 'describe' && node.arguments[0]) {
          const title = pieces(node.arguments[0], loops);
          for (const a of node.arguments.slice(1)) visit(a, [...groups, title], loops);
          return;
        }
        if (callee && CHECK_CALLEES.has(callee) && node.arguments[0]) {
          const full: Piece[] = [];
          for (const [i, part] of [...groups, pieces(node.arguments[0], loops)].entries()) full.push(...(i ? [' '] : []), ...part);
          out.push({ file, fullName: toDisplay(full), pattern: toPattern(full), tags: tagsOf(callee, node.arguments[1], loops) });
          return;
        }
      }
      ts.forEachChild(node, (child) => visit(child, groups, loops));
    }
  }
  return out;

  function calleeName(e: TS.Expression): string | undefined {
    while (ts.isParenthesizedExpression(e)) e = e.expression;
    if (ts.isConditionalExpression(e)) return calleeName(e.whenTrue); // (cond ? check : check.skip)(...)
    if (ts.isIdentifier(e)) return e.text;
    if (ts.isPropertyAccessExpression(e) && ts.isIdentifier(e.expression)) return `${e.expression.text}.${e.name.text}`;
    return undefined;
  }

  function stringArray(e: TS.Expression): string[] | undefined {
    while (ts.isAsExpression(e) || ts.isParenthesizedExpression(e)) e = e.expression;
    if (!ts.isArrayLiteralExpression(e)) return undefined;
    const values = e.elements.map((el) => (ts.isStringLiteralLike(el) ? el.text : undefined));
    return values.every((v) => v !== undefined) ? (values as string[]) : undefined;
  }

  /** The value of `x`, `x.toUpperCase()`, `x.toLowerCase()` for a loop variable x, else undefined. */
  function loopValue(e: TS.Expression, loops: Map<string, string>): string | undefined {
    if (ts.isIdentifier(e)) return loops.get(e.text);
    if (ts.isCallExpression(e) && e.arguments.length === 0 && ts.isPropertyAccessExpression(e.expression)) {
      const base = loopValue(e.expression.expression, loops);
      const method = e.expression.name.text;
      if (base !== undefined && method === 'toUpperCase') return base.toUpperCase();
      if (base !== undefined && method === 'toLowerCase') return base.toLowerCase();
    }
    return undefined;
  }

  function pieces(e: TS.Expression, loops: Map<string, string>): Piece[] {
    if (ts.isStringLiteralLike(e)) return [e.text];
    if (ts.isTemplateExpression(e)) {
      const out: Piece[] = [e.head.text];
      for (const span of e.templateSpans) out.push(loopValue(span.expression, loops) ?? null, span.literal.text);
      return out;
    }
    return [loopValue(e, loops) ?? null];
  }

  function tagsOf(callee: string, meta: TS.Expression | undefined, loops: Map<string, string>): string[] {
    if (!meta) return [];
    if (callee.startsWith('negativeControl')) {
      const property = ts.isStringLiteralLike(meta) ? meta.text : loopValue(meta, loops);
      return ['negative-control', ...(property ? [property] : [])];
    }
    if (!ts.isObjectLiteralExpression(meta)) return [];
    for (const p of meta.properties) {
      if (ts.isPropertyAssignment(p) && ts.isIdentifier(p.name) && p.name.text === 'tags' && ts.isArrayLiteralExpression(p.initializer)) {
        return p.initializer.elements.flatMap((el) => {
          const v = ts.isStringLiteralLike(el) ? el.text : loopValue(el, loops);
          return v === undefined ? [] : [v];
        });
      }
    }
    return [];
  }
}

/** Index of the cluster specs under `dir` (specs/cluster). */
export async function indexClusterSpecs(dir: string): Promise<IndexedCheck[]> {
  const ts = (await import('typescript')).default;
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.spec.ts'))
    .sort()
    .map((f) => ({ file: path.join(dir, f), text: readFileSync(path.join(dir, f), 'utf8') }));
  return indexChecks(ts, files);
}

/** Splits repeated, comma-separated flag values into terms. */
export function splitTerms(values: string[] | undefined): string[] {
  return (values ?? []).flatMap((v) => v.split(',')).map((t) => t.trim()).filter(Boolean);
}

/** What one term selects: a regex source to be matched from the start of a full name. */
function termAlternatives(term: string, index: IndexedCheck[]): string[] {
  const byTag = index.filter((c) => c.tags.some((t) => t.toLowerCase() === term.toLowerCase()));
  return [`.*${escapeRe(term)}`, ...byTag.map((c) => `${c.pattern}$`)];
}

/**
 * One --testNamePattern: `^(?!(?:skips))(?=(?:onlys))`, each alternative anchored at the start of
 * the full name. Undefined when there is nothing to filter.
 */
export function buildTestNamePattern(only: string[], skip: string[], index: IndexedCheck[]): string | undefined {
  if (!only.length && !skip.length) return undefined;
  const alt = (terms: string[]) => [...new Set(terms.flatMap((t) => termAlternatives(t, index)))].join('|');
  return `^${skip.length ? `(?!(?:${alt(skip)}))` : ''}${only.length ? `(?=(?:${alt(only)}))` : ''}`;
}

/** The indexed checks the pattern selects (Jest matches case-insensitively). Names with run-time parts are approximations. */
export function selectedChecks(pattern: string | undefined, index: IndexedCheck[]): IndexedCheck[] {
  if (!pattern) return index;
  const re = new RegExp(pattern, 'i');
  return index.filter((c) => re.test(c.fullName));
}

/** Terms that match no tag and no (statically known) full name. */
export function unknownTerms(terms: string[], index: IndexedCheck[]): string[] {
  return terms.filter((t) => {
    const lower = t.toLowerCase();
    return !index.some((c) => c.tags.some((tag) => tag.toLowerCase() === lower) || c.fullName.toLowerCase().includes(lower));
  });
}

/** Every tag in the index, sorted, for messages. */
export function knownTags(index: IndexedCheck[]): string[] {
  return [...new Set(index.flatMap((c) => c.tags))].sort();
}
