// Which cluster a command talks to: --kubeconfig / KNC_KUBECONFIG / --context plumbing, images, and
// that the managed cluster's kubeconfig is never the user's file.
import { describe, it, expect } from '@jest/globals';
import path from 'node:path';
import { loadKubeConfig } from '../../src/kube/client.js';
import { anyCluster, existingCluster } from '../../src/cluster/flags.js';
import { describeManaged, kindKubeconfig, namedChoices, parseIdentity, planManaged, scriptEnv, type FoundCluster } from '../../src/cluster/kind.js';
import { connect } from '../../src/cluster/connection.js';
import { DEFAULT_IMAGES, managedTarget, preferNodeImages, resolveCluster, userTarget } from '../../src/cluster/resolve.js';
import { kubeconfigYaml, withTempDir, writeTemp } from './fake-apiserver.js';

describe('target cluster', () => {
  it('--kubeconfig, else $KNC_KUBECONFIG, else (with --context only) $KUBECONFIG; none means the kind cluster', () => {
    expect(existingCluster({ kubeconfig: 'kc', context: 'c' }, { KNC_KUBECONFIG: '/env' })).toEqual({ kubeconfig: path.resolve('kc'), context: 'c' });
    expect(existingCluster({}, { KNC_KUBECONFIG: '/env', KNC_CONTEXT: 'ec' })).toEqual({ kubeconfig: '/env', context: 'ec' });
    expect(existingCluster({ kubeconfig: '/f' }, { KNC_CONTEXT: 'ec' })).toEqual({ kubeconfig: '/f', context: undefined });
    expect(existingCluster({ context: 'c' }, { KUBECONFIG: '/u/kc' })).toEqual({ kubeconfig: '/u/kc', context: 'c' });
    expect(existingCluster({}, { KUBECONFIG: '/u/kc' })).toBeUndefined();
    expect(anyCluster({}, { KNC_CACHE: '/cache', KNC_CLUSTER: 'x' })).toEqual({ kubeconfig: '/cache/kubeconfig-x' });
    expect(kindKubeconfig({})).toBe('/var/cache/kube-netcheck/kubeconfig-kube-netcheck');
  });

  it('a user cluster gets public images unless told otherwise; the managed one the images cluster-up loaded', () => {
    expect(userTarget({ kubeconfig: '/k' }, {})!.images).toEqual(DEFAULT_IMAGES);
    expect(userTarget({ kubeconfig: '/k' }, {})!.defaulted).toEqual(['nginx', 'probe']);
    expect(userTarget({ kubeconfig: '/k', probeImage: 'p:1' }, { KNC_NGINX_IMAGE: 'n:2' })!).toMatchObject({
      images: { nginx: 'n:2', probe: 'p:1' },
      defaulted: [],
    });
    expect(userTarget({}, {})).toBeUndefined();
    const m = managedTarget(
      {
        cluster: 'c',
        kubeconfig: '/cache/kubeconfig-c',
        nginxImage: 'kn',
        probeImage: 'kp',
        offline: true,
        cni: 'kube-router',
        shape: 'alt',
        ipFamily: 'dual',
      },
      {},
    );
    expect(m).toEqual({
      kubeconfig: '/cache/kubeconfig-c',
      managed: { cluster: 'c', cni: 'kube-router', shape: 'alt', ipFamily: 'dual' },
      images: { nginx: 'kn', probe: 'kp' },
    });
  });

  it('images nobody named: the offline ones when every node holds them (nothing pulled), else the public default', () => {
    const t = userTarget({ kubeconfig: '/k' }, {})!;
    const node = (...n: string[]) => ['registry.k8s.io/pause:3.10.1', ...n];
    const both = ['kube-netcheck.local/nginx:trixie-r1', 'kube-netcheck.local/probe:trixie-r1'];
    expect(preferNodeImages(t, [node(...both), node(...both)]).images).toEqual({ nginx: both[0], probe: both[1] });
    // held by one node only: not used (a pod on the other node would have to pull it)
    expect(preferNodeImages(t, [node(...both), node(both[0])]).images).toEqual({ nginx: both[0], probe: DEFAULT_IMAGES.probe });
    // named by the user: kept as named
    const named = userTarget({ kubeconfig: '/k', nginxImage: 'nginx:9' }, {})!;
    expect(preferNodeImages(named, [node(...both)]).images).toEqual({ nginx: 'nginx:9', probe: both[1] });
    expect(preferNodeImages(userTarget({ kubeconfig: '/k' }, { KNC_PROBE_IMAGE: 'p:1' })!, [node(...both)]).images.probe).toBe('p:1');
  });

  it('the scripts get kube-netcheck choices as KNC_* variables and nothing else changes', () => {
    const e = scriptEnv(
      { cni: 'kube-router', cniManifest: 'x.yaml', shape: 'alt', nodeImage: 'n', ipFamily: 'ipv6' },
      { PATH: '/bin', KNC_KUBECONFIG: '/user/kc' },
    );
    expect([e.KNC_CNI, e.KNC_CNI_MANIFEST, e.KNC_SHAPE, e.KNC_NODE_IMAGE, e.KNC_IP_FAMILY, e.PATH, e.KNC_KUBECONFIG]).toEqual([
      'kube-router',
      path.resolve('x.yaml'),
      'alt',
      'n',
      'ipv6',
      '/bin',
      '/user/kc',
    ]);
    expect(scriptEnv({}, { KNC_IP_FAMILY: 'dual' }).KNC_IP_FAMILY).toBe('dual');
  });
});

describe('the context rule lives in one place (cluster/flags.ts); the connection loads the kubeconfig once with it', () => {
  const twoContexts = (dir: string) =>
    writeTemp(
      dir,
      'kc',
      kubeconfigYaml('http://127.0.0.1:1', 'kind-a').replace('contexts:\n', 'contexts:\n- name: kind-b\n  context:\n    cluster: kind-a\n    user: kind-a\n'),
    );

  it('KNC_CONTEXT applies to KNC_KUBECONFIG, through the resolver, into the connection', () =>
    withTempDir(async (dir) => {
      const file = await twoContexts(dir);
      // images named: the resolver has no reason to ask the API for the nodes' images
      const flags = { nginxImage: 'n:1', probeImage: 'p:1' };
      const r = await resolveCluster(flags, { KNC_KUBECONFIG: file, KNC_CONTEXT: 'kind-b' });
      expect([r.conn.target.context, r.conn.kube.context, r.conn.kube.kc.getCurrentContext(), r.managed]).toEqual(['kind-b', 'kind-b', 'kind-b', undefined]);
      // an explicit --context wins; without KNC_CONTEXT the file's current-context
      expect((await resolveCluster({ ...flags, context: 'kind-a' }, { KNC_KUBECONFIG: file, KNC_CONTEXT: 'kind-b' })).conn.kube.context).toBe('kind-a');
      expect((await resolveCluster(flags, { KNC_KUBECONFIG: file })).conn.kube.context).toBe('kind-a');
      // a user's cluster has no node access: checks that need it are not applicable there
      expect(r.conn.nodeAccess).toBeUndefined();
    }));

  it("the kube layer reads no KNC_* variable: loadKubeConfig uses the context it is given, else the file's", () =>
    withTempDir(async (dir) => {
      const file = await twoContexts(dir);
      const saved = { kc: process.env.KNC_KUBECONFIG, ctx: process.env.KNC_CONTEXT };
      try {
        process.env.KNC_KUBECONFIG = file;
        process.env.KNC_CONTEXT = 'kind-b';
        expect(loadKubeConfig({ kubeconfig: file }).getCurrentContext()).toBe('kind-a');
        expect(loadKubeConfig({ kubeconfig: file, context: 'kind-b' }).getCurrentContext()).toBe('kind-b');
      } finally {
        for (const [k, v] of [
          ['KNC_KUBECONFIG', saved.kc],
          ['KNC_CONTEXT', saved.ctx],
        ] as const) {
          if (v === undefined) delete process.env[k];
          else process.env[k] = v;
        }
      }
    }));

  it('the connection hands over the kubeconfig the preflight loaded instead of loading it again', () =>
    withTempDir(async (dir) => {
      const file = await twoContexts(dir);
      const kc = loadKubeConfig({ kubeconfig: file, context: 'kind-b' });
      const c = connect({ kubeconfig: file, context: 'kind-b', images: DEFAULT_IMAGES }, kc);
      expect(c.kube.kc).toBe(kc);
      // a managed target gets the provider's node access
      const m = connect(
        { kubeconfig: file, context: 'kind-b', images: DEFAULT_IMAGES, managed: { cluster: 'c', cni: 'flannel-host-gw', shape: 'default' } },
        kc,
      );
      expect(typeof m.nodeAccess?.exec).toBe('function');
    }));
});

describe('the reuse rule: a managed cluster is reused as it is; one that is not what the command names is refused, never deleted', () => {
  const running = (cni: string, shape = 'default'): FoundCluster => ({ exists: true, notRunning: [], identity: { cni, shape, pending: false } });

  it('cluster up --cni kube-router, then run with nothing named: the kube-router cluster, as it is', () => {
    expect(planManaged({}, {}, running('kube-router'))).toMatchObject({ action: 'reuse', cni: 'kube-router', shape: 'default' });
    expect(planManaged({}, { PATH: '/bin', KNC_CLUSTER: 'x' }, running('manifest:calico.yaml', 'alt'))).toMatchObject({
      action: 'reuse',
      cni: 'manifest:calico.yaml',
      shape: 'alt',
    });
    // a dual-stack cluster reused as it is keeps its family (its ranges are what the safety net routes)
    const dual: FoundCluster = { exists: true, notRunning: [], identity: { cni: 'flannel-host-gw', shape: 'default', pending: false, ipFamily: 'dual' } };
    expect(planManaged({}, {}, dual)).toMatchObject({ action: 'reuse', ipFamily: 'dual' });
    expect(planManaged({ ipFamily: 'ipv4' }, {}, dual)).toEqual({ action: 'refuse', why: 'it has IP family dual, the command names IP family ipv4' });
    expect(planManaged({}, { KNC_IP_FAMILY: 'dual' }, dual).action).toBe('as-named');
  });

  it('a named CNI, manifest, shape or family (flag or KNC_* variable) that the cluster does not have: refused (exit 2), never replaced', () => {
    expect(planManaged({ cni: 'kube-router' }, {}, running('flannel-host-gw'))).toEqual({
      action: 'refuse',
      why: 'it has CNI flannel-host-gw, the command names CNI kube-router',
    });
    // naming only the shape names the default CNI with it (as cluster-up.sh fills it in)
    expect(planManaged({ shape: 'alt' }, {}, running('kube-router'))).toEqual({
      action: 'refuse',
      why: 'it has CNI kube-router, shape default, the command names CNI flannel-host-gw, shape alt',
    });
    expect(planManaged({ cniManifest: '/tmp/x.yaml' }, {}, running('kube-router')).why).toBe('it has CNI kube-router, the command names CNI manifest:x.yaml');
    expect(planManaged({}, { KNC_SHAPE: 'alt', KNC_CNI: 'kube-router' }, running('kube-router')).action).toBe('refuse');
    expect(planManaged({}, { KNC_IP_FAMILY: 'dual' }, running('flannel-host-gw')).action).toBe('refuse');
  });

  it('a named CNI, manifest, shape or node image that the cluster has: reused only if it is exactly that (the script checks the node image and CNI version)', () => {
    expect(planManaged({ cni: 'kube-router', shape: 'single' }, {}, running('kube-router', 'single'))).toEqual({
      action: 'as-named',
      why: 'the command names its CNI, shape: reused only if it is exactly that',
    });
    expect(planManaged({ cniManifest: 'my/calico.yaml' }, {}, running('manifest:calico.yaml')).action).toBe('as-named');
    expect(planManaged({}, { KNC_CNI: 'kube-router', KNC_NODE_IMAGE: 'n' }, running('kube-router'))).toEqual({
      action: 'as-named',
      why: 'the command names its CNI, node image: reused only if it is exactly that',
    });
    expect(namedChoices({}, { KNC_CLUSTER: 'x', KNC_KUBECONFIG: '/k', KNC_CNI: '' })).toEqual([]);
  });

  it('no cluster: created (with the defaults, or as named)', () => {
    expect(planManaged({}, {}, { exists: false, notRunning: [] }).action).toBe('create');
    expect(planManaged({ cni: 'kube-router' }, {}, { exists: false, notRunning: [] })).toEqual({ action: 'as-named', why: 'the command names its CNI' });
  });

  it('a cluster that cannot be reused as it is is refused, never replaced unasked', () => {
    expect(
      planManaged({}, {}, { exists: true, notRunning: ['kube-netcheck-worker: exited'], identity: { cni: 'kube-router', shape: 'default', pending: false } }),
    ).toEqual({
      action: 'refuse',
      why: 'node kube-netcheck-worker: exited not running',
    });
    expect(planManaged({}, {}, { ...running('kube-router'), identity: { cni: 'kube-router', shape: 'default', pending: true } })).toEqual({
      action: 'refuse',
      why: 'its CNI (kube-router) install never finished',
    });
    expect(planManaged({}, {}, { exists: true, notRunning: [] }).action).toBe('refuse');
    // naming what it is does not make a stopped node or an unfinished install usable: refused too, not recreated
    expect(planManaged({ cni: 'kube-router' }, {}, { ...running('kube-router'), notRunning: ['w: exited'] }).action).toBe('refuse');
    expect(
      planManaged({ cni: 'kube-router' }, {}, { ...running('kube-router'), identity: { cni: 'kube-router', shape: 'default', pending: true } }).action,
    ).toBe('refuse');
  });

  it('reads the identity cluster-up.sh records in the control-plane node', () => {
    expect(parseIdentity('shape=default cni=kube-router config=3f2a1b0c9d8e cni-key=0a1b2c3d4e5f\n')).toEqual({
      shape: 'default',
      cni: 'kube-router',
      pending: false,
      ipFamily: 'ipv4',
    });
    expect(parseIdentity('pending shape=alt cni=manifest:calico.yaml config=3f2a1b0c9d8e cni-key=0a1b2c3d4e5f')).toEqual({
      shape: 'alt',
      cni: 'manifest:calico.yaml',
      pending: true,
      ipFamily: 'ipv4',
    });
    // ipv6/dual clusters name their family (scripts/cluster-up.sh); an unknown family is no identity
    expect(parseIdentity('shape=default cni=flannel-host-gw family=dual config=3f2a1b0c9d8e cni-key=0a1b2c3d4e5f')).toEqual({
      shape: 'default',
      cni: 'flannel-host-gw',
      pending: false,
      ipFamily: 'dual',
    });
    expect(parseIdentity('shape=default cni=flannel-host-gw family=ipv7 config=3f2a1b0c9d8e')).toBeUndefined();
    expect(parseIdentity('garbage')).toBeUndefined();
  });

  it('run says what it found: created or reused as it is, shape and CNI', () => {
    const k = {
      cluster: 'kube-netcheck',
      kubeconfig: '/c/kc',
      nginxImage: 'n',
      probeImage: 'p',
      offline: true,
      cni: 'kube-router',
      shape: 'default',
      created: false,
    };
    expect(describeManaged(k, planManaged({}, {}, running('kube-router')))).toBe(
      'kind cluster kube-netcheck (reused as it is): shape default, CNI kube-router',
    );
    expect(describeManaged({ ...k, cni: 'flannel-host-gw', created: true }, { action: 'create', why: '' })).toBe(
      'kind cluster kube-netcheck (created now): shape default, CNI flannel-host-gw',
    );
    expect(describeManaged({ ...k, cni: 'flannel-host-gw', created: true, ipFamily: 'dual' }, { action: 'create', why: '' })).toBe(
      'kind cluster kube-netcheck (created now): shape default, CNI flannel-host-gw, IP family dual',
    );
  });
});
