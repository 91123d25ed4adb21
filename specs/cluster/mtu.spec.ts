// MTU / large payload: the pod MTU as found, a packet of exactly that MTU with DF set across nodes
// (one byte more refused locally), a large body intact pod → pod and through the ClusterIP, and a
// path-MTU black hole on a live node that fails the large transfer while small pages still pass.
import { byLayer, testEachCheck, useNetcheck } from '../support/netcheck.js';

const run = useNetcheck('mtu', byLayer('mtu'));
testEachCheck(run, 'mtu');
