// Property 1 — pod IPs: reachable as podIP:80 from every node and pod, answered by the pod asked, without NAT.
// Setup → Assess → Teardown over the catalogue (src/suite): every check of these layers, with its
// negative controls, one Jest test each.
import { byLayer, testEachCheck, useNetcheck } from '../support/netcheck.js';

const run = useNetcheck('pod-ips', byLayer('pod-ip'));
testEachCheck(run, 'pod-ips');
