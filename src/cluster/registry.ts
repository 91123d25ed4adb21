// One registry for every image (air-gapped clusters that mirror images): an image's own registry
// host is replaced by the mirror and its path kept — registry.k8s.io/e2e-test-images/agnhost:2.56
// → MIRROR/e2e-test-images/agnhost:2.56; a Docker Hub name gets its implicit path: nginx:1.27 →
// MIRROR/library/nginx:1.27; kube-netcheck.local/probe:… → MIRROR/probe:… (the layout `crane copy`,
// Harbor proxy projects and skopeo sync produce for a per-source mirror).

/** The first path component is a registry host when it has a dot or a port, or is localhost (the Docker rule). */
const isHost = (c: string) => c.includes('.') || c.includes(':') || c === 'localhost';

/** `image` as it is named in the mirror `registry` (host[:port][/path]). */
export function mirrorImage(image: string, registry: string): string {
  const parts = image.split('/');
  const path = parts.length > 1 && isHost(parts[0]) ? parts.slice(1) : parts.length === 1 ? ['library', ...parts] : parts;
  return `${registry.replace(/\/+$/, '')}/${path.join('/')}`;
}

/** A registry as --registry / KNC_REGISTRY take it: host[:port][/path], no scheme, no tag; else the reason it is not. */
export function registryProblem(r: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(r)) return 'a registry host without a scheme (host[:port][/path])';
  if (!/^[A-Za-z0-9.-]+(:\d+)?(\/[a-z0-9._/-]+)?$/.test(r)) return 'host[:port][/path]';
  return undefined;
}
