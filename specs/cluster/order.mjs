// Runs the cluster specs in a fixed order: read-only specs first, then services.spec (it scales and
// replaces the shared nginx pods), then cleanup.spec (it runs a second suite). Unit tests keep
// Jest's default order and go first.
import * as mod from '@jest/test-sequencer';

const Base = mod.default?.default ?? mod.default;
const ORDER = ['cluster.spec', 'pod-ips.spec', 'dns.spec', 'services.spec', 'rbac.spec', 'grade.spec', 'cleanup.spec'];
const rank = (path) => {
  const i = ORDER.findIndex((name) => path.endsWith(`/${name}.ts`));
  return i === -1 ? -1 : i;
};

export default class ClusterSpecOrder extends Base {
  sort(tests) {
    const sorted = super.sort(tests);
    return [...sorted].sort((a, b) => rank(a.path) - rank(b.path));
  }
}
