// Property 2 — Services: a virtual ClusterIP whose Endpoints, EndpointSlices and traffic follow exactly the Ready pods.
// Setup → Assess → Teardown over the catalogue (src/suite): every check of these layers, with its
// negative controls, one Jest test each.
import { byLayer, testEachCheck, useNetcheck } from '../support/netcheck.js';

const run = useNetcheck('services', byLayer('service'));
testEachCheck(run, 'services');
