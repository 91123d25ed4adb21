// Which checks a run covers: terms are a check id, a substring of its title (case-insensitive) or
// one of its tags; --skip wins over --only. Negative controls come along with the checks they
// control (a control is meaningless without its check). A term that names a layer or a tag selects
// by layer, tag and id only, never by title: `--skip policy` (what `make check` passes on a CNI
// without a NetworkPolicy engine) must not drop the externalTrafficPolicy/internalTrafficPolicy
// checks of the service layer because their titles say "Policy".
import type { CheckDef } from './types.js';

export interface Selection {
  only?: string[];
  skip?: string[];
}

/** Whether `term` is a layer or a tag of some check in the catalogue (then it is not a title substring). */
const isName = (catalogue: readonly CheckDef[], t: string) => catalogue.some((c) => c.layer === t || c.tags.some((x) => x.toLowerCase() === t));

const matches = (catalogue: readonly CheckDef[], c: CheckDef, term: string) => {
  const t = term.toLowerCase();
  return (
    c.id.toLowerCase() === t ||
    c.id.toLowerCase().startsWith(`${t}.`) ||
    c.tags.some((x) => x.toLowerCase() === t) ||
    c.layer === t ||
    (!isName(catalogue, t) && c.title.toLowerCase().includes(t))
  );
};

export function selectChecks(catalogue: readonly CheckDef[], sel: Selection = {}): CheckDef[] {
  const only = sel.only ?? [];
  const skip = sel.skip ?? [];
  // an opt-in check (the disruption layer) only when an --only term other than its layer names it
  const named = (c: CheckDef) => only.some((t) => t.toLowerCase() !== c.layer && matches(catalogue, c, t));
  return catalogue.filter(
    (c) => (c.optIn ? named(c) : !only.length || only.some((t) => matches(catalogue, c, t))) && !skip.some((t) => matches(catalogue, c, t)),
  );
}

/** Terms that select nothing at all (for a warning). */
export function unknownTerms(catalogue: readonly CheckDef[], terms: string[]): string[] {
  return terms.filter((t) => !catalogue.some((c) => matches(catalogue, c, t)));
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
