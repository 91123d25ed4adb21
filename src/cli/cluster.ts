// `kube-netcheck cluster up|down`: the kind cluster, through the same scripts make uses.
import { execa } from 'execa';
import path from 'node:path';
import { requireDocker } from './docker.js';
import { CliFailure, EXIT, type Io } from './io.js';

interface ClusterUpInfo {
  cluster: string;
  kubeconfig: string;
  nginxImage: string;
  probeImage: string;
  offline: boolean;
}

export async function clusterCommand(action: 'up' | 'down', io: Io, root: string): Promise<number> {
  await requireDocker();
  const script = path.join(root, 'scripts', `cluster-${action}.sh`);
  if (action === 'up') {
    io.out('cluster up: creating or reusing the kind cluster (the first time builds the images offline: this can take a while)');
    const res = await execa('bash', [script], { cwd: root, stdin: 'ignore', stdout: 'pipe', stderr: 'inherit', reject: false });
    if (res.exitCode !== 0) throw new CliFailure(`CLUSTER_UP_FAILED: scripts/cluster-up.sh exited ${res.exitCode ?? res.signal} (its output above says why)`);
    const info = JSON.parse(res.stdout.trim().split('\n').pop()!) as ClusterUpInfo;
    io.out(`cluster ${info.cluster} ready (${info.offline ? 'offline images' : 'online images'}); kubeconfig ${info.kubeconfig}`);
    io.out('next: `kube-netcheck run --keep` checks it and keeps it (without --keep the run deletes it afterwards)');
    return EXIT.OK;
  }
  io.out('cluster down: deleting the kind cluster and the host safety-net routes');
  const res = await execa('bash', [script], { cwd: root, stdin: 'ignore', stdout: 'inherit', stderr: 'inherit', reject: false });
  if (res.exitCode !== 0) throw new CliFailure(`CLUSTER_DOWN_FAILED: scripts/cluster-down.sh exited ${res.exitCode ?? res.signal} (its output above says why)`);
  io.out('cluster deleted');
  return EXIT.OK;
}
