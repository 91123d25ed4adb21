// Every shipped lab beyond the seed (specs/selftest/grade.spec.ts has the seed's cases) on the live
// cluster of this Jest run (specs/support/grade-labs.ts): per lab, a namespace per solution file of
// manifests/grading/solutions/<lab>/ and an empty namespace; then ONE class command per lab and its
// grade book compared case by case: the reference scores 100 %, the empty namespace 0, each wrong
// solution loses exactly its checks. Where NetworkPolicy is not enforced (the default flannel
// cluster) the policy checks must be "not judged", left out of the total, never passed or failed
// silently; where it is, the wrong NetworkPolicy solutions lose their '# loses-if-enforced:' checks
// too. (make test grades the netpol lab on an enforcing cluster as well: specs/selftest/cni-manifest.spec.ts.)
// KNC_GRADE_LABS=netpol,… grades only those labs (e.g. on a policy cluster of one's own).
import { afterAll, beforeAll, describe, test } from '@jest/globals';
import { jestTarget } from '../support/netcheck.js';
import { labCases, LabClasses } from '../support/grade-labs.js';

const LABS = process.env.KNC_GRADE_LABS?.split(',').filter(Boolean) ?? ['nodeport', 'debug-service', 'headless', 'netpol'];
const CASES = labCases(LABS);
let classes: LabClasses | undefined;

beforeAll(async () => {
  classes = new LabClasses(jestTarget(), CASES);
  process.stdout.write(`grade-labs.spec: ${await classes.setUp()}\n`);
}, 600_000);

afterAll(async () => {
  await classes?.tearDown();
}, 90_000);

describe('the shipped labs, each graded as a class of its solutions', () => {
  for (const c of CASES) {
    const ifEnforced = c.losesIfEnforced.length ? ` (+ [${c.losesIfEnforced.join(', ')}] where NetworkPolicy is enforced)` : '';
    const loses = c.key === 'empty' ? 'everything it can' : c.loses.length ? `exactly [${c.loses.join(', ')}]${ifEnforced}` : `nothing (100 %)${ifEnforced}`;
    test(`${c.lab}: ${c.what}: loses ${loses}`, () => classes!.verdict(c));
  }

  test('each class: exit 1 (not everyone passed), a line per student, both grade book files, the policy verdict said', () => {
    for (const lab of LABS) classes!.classVerdict(lab);
  });
});
