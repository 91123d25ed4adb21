// Property 3 — CoreDNS: resolv.conf and the name forms svc, svc.ns, svc.ns.svc, svc.ns.svc.<domain> as the model says.
// Setup → Assess → Teardown over the catalogue (src/suite): every check of these layers, with its
// negative controls, one Jest test each.
import { byLayer, testEachCheck, useNetcheck } from '../support/netcheck.js';

const run = useNetcheck('dns', byLayer('dns'));
testEachCheck(run, 'dns');
