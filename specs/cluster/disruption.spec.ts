// The disruption layer (opt-in in `kube-netcheck run`: --only disruption): long-lived TCP
// connections pod -> pod (cross-node) and pod -> ClusterIP keep carrying data while the CNI's and
// kube-proxy's DaemonSet pods are deleted and come back; new connections work within a bound; a
// connection really cut (a REJECT with a TCP reset of its flow) fails the verdict, naming it.
import { CATALOGUE } from '../../src/catalogue/index.js';
import { testEachCheck, useNetcheck } from '../support/netcheck.js';

const run = useNetcheck(
  'disruption',
  CATALOGUE.filter((c) => c.tags.includes('disruption')),
);
testEachCheck(run, 'disruption');
