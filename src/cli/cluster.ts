// `kube-netcheck cluster up|down`: the managed kind cluster through its provider (src/cluster/kind.ts).
import { requireDocker } from './docker.js';
import { CliFailure, EXIT, type Io } from './io.js';
import { ClusterRefused, describeManaged, kindDown, upManaged, type KindOptions } from '../cluster/kind.js';

export async function clusterCommand(action: 'up' | 'down', opts: KindOptions, io: Io, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  await requireDocker();
  if (action === 'up') {
    io.out(
      `cluster up: creating or reusing the kind cluster${opts.cni ? ` with CNI ${opts.cni}` : ''}${opts.cniManifest ? ` with the CNI in ${opts.cniManifest}` : ''}${opts.shape ? ` (shape ${opts.shape})` : ''}${opts.ipFamily ? ` (IP family ${opts.ipFamily})` : ''} — the first time builds the images offline: this can take a while`,
    );
    const { cluster: info, plan } = await upManaged(opts, env).catch((err: Error) => {
      if (err instanceof ClusterRefused) throw new CliFailure(`CLUSTER_NOT_REUSABLE: ${err.message}`);
      throw new CliFailure(`CLUSTER_UP_FAILED: ${err.message.split('\n')[0]}`);
    });
    io.out(
      `cluster ${info.cluster} ready: ${describeManaged(info, plan)} (${info.offline ? 'offline images' : 'online images'}); kubeconfig ${info.kubeconfig}`,
    );
    io.out(
      'next: `kube-netcheck run` checks it as it is and leaves it (a run deletes only a cluster it created itself); `kube-netcheck cluster down` deletes it',
    );
    return EXIT.OK;
  }
  io.out('cluster down: deleting the kind cluster and the host safety-net routes');
  await kindDown(opts, env).catch((err: Error) => {
    throw new CliFailure(`CLUSTER_DOWN_FAILED: ${err.message.split('\n')[0]}`);
  });
  io.out('cluster deleted');
  return EXIT.OK;
}
