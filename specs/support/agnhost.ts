// agnhost's tool set (registry.k8s.io/e2e-test-images/agnhost: Alpine's busybox plus bind-tools, curl,
// netcat-openbsd, iproute2, bash; its Dockerfile) as Debian installs the packages: the stand-ins of
// specs/unit/agnhost-tools.test.ts (on the host) and specs/selftest/agnhost-http.spec.ts (in the probe
// image) link exactly these next to every busybox applet. musl's getent is not packaged in Debian:
// glibc's stands in.
export const AGNHOST_PACKAGES: Record<string, string> = {
  bash: '/usr/bin/bash',
  curl: '/usr/bin/curl',
  dig: '/usr/bin/dig',
  nslookup: '/usr/bin/nslookup',
  host: '/usr/bin/host',
  nc: '/usr/bin/nc.openbsd',
  ip: '/usr/sbin/ip',
  ss: '/usr/bin/ss',
  getent: '/usr/bin/getent',
};
