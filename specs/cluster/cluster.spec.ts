// The cluster the suite runs on: nodes Ready and handing out pod IPs, the DNS Service and its pods, the host safety net (our cluster only).
// Setup → Assess → Teardown over the catalogue (src/suite): every check of these layers, with its
// negative controls, one Jest test each.
import { byLayer, testEachCheck, useNetcheck } from '../support/netcheck.js';

const run = useNetcheck('cluster', byLayer('nodes', 'coredns'));
testEachCheck(run, 'cluster');
