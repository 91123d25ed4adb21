// HTTP probe builder and body parsers against real nginx responses captured in the kind cluster.
import { describe, it, expect } from '@jest/globals';
import { httpProbe, isNginxWelcome, parseWhoAmI } from '../../src/probes/http.js';
import { CAPTURE, captured } from './fixture-files.js';

describe('httpProbe', () => {
  it('bounds busybox wget twice: wget -T N inside timeout -s KILL N+1', () => {
    expect(httpProbe('page', CAPTURE.webClusterIP, 80).argv).toEqual([
      'timeout',
      '-s',
      'KILL',
      '3',
      'wget',
      '-q',
      '-T',
      '2',
      '-O',
      '-',
      `http://${CAPTURE.webClusterIP}:80/`,
    ]);
  });

  it('with -T 1 it is exactly the timeout command that was captured against the unheld pod IP (port made explicit)', () => {
    const argv = httpProbe('unheld', CAPTURE.unheldIP, 80, '/', 1).argv;
    expect(argv).toEqual(captured('wget-timeout-unused-pod-ip').argv.map((a) => a.replace(`http://${CAPTURE.unheldIP}/`, `http://${CAPTURE.unheldIP}:80/`)));
    expect(argv.slice(0, 4)).toEqual(['timeout', '-s', 'KILL', '2']);
  });

  it('keeps the path', () => {
    expect(httpProbe('w', CAPTURE.whoamiPodIP, 80, '/whoami').argv.at(-1)).toBe(`http://${CAPTURE.whoamiPodIP}:80/whoami`);
  });
});

describe('isNginxWelcome', () => {
  it('recognises the real welcome page served through the ClusterIP', () => {
    const c = captured('wget-web-clusterip');
    expect(c.exitCode).toBe(0);
    expect(c.stdout).toContain('<title>Welcome to nginx!</title>');
    expect(isNginxWelcome(c.stdout)).toBe(true);
  });

  it('rejects the whoami body and empty bodies of failed requests', () => {
    expect(isNginxWelcome(captured('wget-whoami').stdout)).toBe(false);
    for (const name of ['wget-web-404', 'wget-refused-pod-port', 'wget-timeout-unused-pod-ip']) {
      const c = captured(name);
      expect(c.exitCode).not.toBe(0);
      expect(c.stdout).toBe('');
      expect(isNginxWelcome(c.stdout)).toBe(false);
    }
  });
});

describe('parseWhoAmI', () => {
  it('reads the client address nginx saw and the serving pod from the real /whoami body', () => {
    const c = captured('wget-whoami');
    expect(c.stdout).toBe(`client=${CAPTURE.probePodIP} server=whoami\n`);
    expect(parseWhoAmI(c.stdout)).toEqual({ client: CAPTURE.probePodIP, server: 'whoami' });
  });

  it('is undefined for anything else', () => {
    expect(parseWhoAmI(captured('wget-web-clusterip').stdout)).toBeUndefined();
    expect(parseWhoAmI('')).toBeUndefined();
    expect(parseWhoAmI('wget: server returned error: HTTP/1.1 404 Not Found\n')).toBeUndefined();
  });
});
