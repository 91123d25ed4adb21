// Which checks a run covers: terms are a check id, a substring of its title (case-insensitive) or
// one of its tags; --skip wins over --only. Negative controls come along with the checks they
// control (a control is meaningless without its check).
import type { CheckDef } from './types.js';

export interface Selection {
  only?: string[];
  skip?: string[];
}

const matches = (c: CheckDef, term: string) => {
  const t = term.toLowerCase();
  return (
    c.id.toLowerCase() === t ||
    c.id.toLowerCase().startsWith(`${t}.`) ||
    c.title.toLowerCase().includes(t) ||
    c.tags.some((x) => x.toLowerCase() === t) ||
    c.layer === t
  );
};

export function selectChecks(catalogue: readonly CheckDef[], sel: Selection = {}): CheckDef[] {
  const only = sel.only ?? [];
  const skip = sel.skip ?? [];
  return catalogue.filter((c) => (!only.length || only.some((t) => matches(c, t))) && !skip.some((t) => matches(c, t)));
}

/** Terms that select nothing at all (for a warning). */
export function unknownTerms(catalogue: readonly CheckDef[], terms: string[]): string[] {
  return terms.filter((t) => !catalogue.some((c) => matches(c, t)));
}

export function knownTags(catalogue: readonly CheckDef[]): string[] {
  return [...new Set(catalogue.flatMap((c) => [c.layer, ...c.tags]))].sort();
}

/** Splits repeated, comma-separated flag values into terms. */
export function splitTerms(values: string[] | undefined): string[] {
  return (values ?? [])
    .flatMap((v) => v.split(','))
    .map((t) => t.trim())
    .filter(Boolean);
}
