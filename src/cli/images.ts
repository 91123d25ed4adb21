// `kube-netcheck images [--registry R]`: every container image a run, the grader, cluster up, each
// built-in CNI and `conformance` use (scripts/images.sh, plus the public defaults a run uses on a
// cluster kube-netcheck did not build), each with what uses it; with --registry, as named in
// that mirror (what to copy there, and what every command then asks for).
import { execa } from 'execa';
import path from 'node:path';
import { ROOT } from '../cluster/kind.js';
import { DEFAULT_IMAGES } from '../cluster/resolve.js';
import { mirrorImage } from '../cluster/registry.js';
import { CliFailure, EXIT, type Io } from './io.js';

export interface ImageUse {
  image: string;
  /** What uses it, e.g. "run (public default)", "cni kube-router", "conformance". */
  uses: string[];
  /** The image's own name when --registry renamed it. */
  source?: string;
}

/** Every image, once, with every use; renamed into `registry` when one is given. */
export async function listImages(registry?: string, env: NodeJS.ProcessEnv = process.env): Promise<ImageUse[]> {
  const res = await execa('bash', [path.join(ROOT, 'scripts', 'images.sh')], { env, reject: false });
  if (res.exitCode !== 0) throw new CliFailure(`IMAGES_UNKNOWN: scripts/images.sh exited ${res.exitCode}: ${res.stderr.trim().split('\n').pop() ?? ''}`);
  const lines: Array<[string, string]> = [
    ['run (public default, on clusters kube-netcheck did not build)', DEFAULT_IMAGES.nginx],
    ['run (public default, on clusters kube-netcheck did not build)', DEFAULT_IMAGES.probe],
    ...res.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split('\t') as [string, string]),
  ];
  const byImage = new Map<string, ImageUse>();
  for (const [use, source] of lines) {
    const image = registry ? mirrorImage(source, registry) : source;
    const e = byImage.get(image) ?? { image, uses: [], ...(registry ? { source } : {}) };
    if (!e.uses.includes(use)) e.uses.push(use);
    byImage.set(image, e);
  }
  return [...byImage.values()];
}

export async function imagesCommand(flags: { registry?: string }, io: Io): Promise<number> {
  const list = await listImages(flags.registry);
  const width = Math.max(...list.map((e) => e.image.length));
  for (const e of list) io.out(`${e.image.padEnd(width)}  ${e.source ? `(from ${e.source}) ` : ''}${e.uses.join('; ')}`);
  if (flags.registry)
    io.out(
      `(${list.length} images; copy each from its source into ${flags.registry}: run, grade and conformance then ask for these names with --registry ${flags.registry} or KNC_REGISTRY)`,
    );
  return EXIT.OK;
}
