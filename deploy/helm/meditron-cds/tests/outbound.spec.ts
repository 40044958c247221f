/**
 * Outbound calls as a first-class setting: the egress allow-list (JWKS/OIDC for the gateway, FHIR servers for
 * cds-hooks), the NOTES warning when nothing may leave, the HTTPS proxy (checked against Node's own proxy support:
 * the rendered NO_PROXY must keep cluster-internal calls direct), the CA bundle, and the DNS presets.
 */
import { execFile } from 'node:child_process';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import type { Duplex } from 'node:stream';
import { promisify } from 'node:util';
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap' with { 'resolution-mode': 'import' };
import type { INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy' with {
  'resolution-mode': 'import',
};
import {
  chartDir,
  customResources,
  ensureHelm,
  render,
  renderError,
  renderNotes,
  validateObject,
  type K8sObject,
} from './helm';
import { componentOf, configMapOf, ofKind, one, podSpecs, specOf } from './objects';

const example = (name: string): string => path.join(chartDir, 'examples', `values-${name}.yaml`);
let helmBin = '';

async function renderValid(opts: Parameters<typeof render>[1]): Promise<K8sObject[]> {
  const objects = await render(helmBin, opts);
  for (const o of objects) if (!customResources.has(o.kind)) await validateObject(o);
  return objects;
}

function egressOf(objects: readonly K8sObject[], component: string): NonNullable<INetworkPolicy['spec']>['egress'] {
  return specOf(
    one(
      ofKind<INetworkPolicy>(objects, 'NetworkPolicy').filter((p) => componentOf(p) === component),
      `${component} NetworkPolicy`,
    ),
  ).egress;
}

/** `cidr:port` of every ipBlock egress rule of a component. */
function ipEgress(objects: readonly K8sObject[], component: string): string[] {
  return (egressOf(objects, component) ?? []).flatMap((r) =>
    (r.to ?? []).flatMap((p) => (p.ipBlock ? (r.ports ?? []).map((port) => `${p.ipBlock?.cidr}:${port.port}`) : [])),
  );
}

beforeAll(() => {
  helmBin = ensureHelm();
});

describe('egress allow-list', () => {
  it('lets nothing out of the cluster by default, and NOTES say what fails', async () => {
    const objects = await renderValid({});
    expect(ipEgress(objects, 'gateway')).toEqual([]);
    expect(ipEgress(objects, 'cds-hooks')).toEqual([]);
    const notes = await renderNotes(helmBin, {});
    expect(notes).toMatch(/WARNING: network policies are on and the gateway may call nothing outside the cluster/);
    expect(notes).toMatch(/keys_unavailable/);
    expect(notes).toMatch(/WARNING: network policies are on and cds-hooks may call no EHR FHIR server/);
  });

  it('allows the identity providers from the gateway and the FHIR servers from cds-hooks (production)', async () => {
    const objects = await renderValid({ valuesFiles: [example('production')] });
    expect(ipEgress(objects, 'gateway')).toContain('10.50.0.0/24:443');
    expect(ipEgress(objects, 'cds-hooks')).toContain('10.40.0.0/24:443');
    expect(ipEgress(objects, 'cds-hooks')).not.toContain('10.50.0.0/24:443');
    const notes = await renderNotes(helmBin, { valuesFiles: [example('production')] });
    expect(notes).not.toMatch(/WARNING: network policies/);
  });

  it('warns about the one that is missing', async () => {
    const notes = await renderNotes(helmBin, {
      set: {
        'networkPolicy.identityProviders[0].cidr': '10.50.0.0/24',
        'networkPolicy.identityProviders[0].ports[0]': '443',
      },
    });
    expect(notes).not.toMatch(/the gateway may call nothing/);
    expect(notes).toMatch(/cds-hooks may call no EHR FHIR server/);
  });
});

describe('outbound proxy', () => {
  const proxied = { valuesFiles: [example('openshift')] };

  it('sets HTTPS_PROXY, NO_PROXY and NODE_USE_ENV_PROXY on the gateway and cds-hooks only', async () => {
    const objects = await renderValid(proxied);
    for (const component of ['gateway', 'cds-hooks']) {
      const cm = configMapOf(objects, component);
      expect(cm.HTTPS_PROXY).toBe('http://proxy.hospital.example:3128');
      expect(cm.NODE_USE_ENV_PROXY).toBe('1');
      expect(cm.NO_PROXY?.split(',')).toEqual(expect.arrayContaining(['.svc', '.cluster.local', '.hospital.example']));
    }
    expect(configMapOf(objects, 'inference-proxy').HTTPS_PROXY).toBeUndefined();
    expect(ipEgress(objects, 'gateway')).toContain('10.60.0.15/32:3128');
    expect(ipEgress(objects, 'cds-hooks')).toContain('10.60.0.15/32:3128');
    expect(await renderNotes(helmBin, proxied)).not.toMatch(/WARNING: network policies/);
  });

  it('refuses a proxy the network policies would block', async () => {
    const stderr = await renderError(helmBin, { set: { 'outbound.proxy.url': 'http://10.60.0.15:3128' } });
    expect(stderr).toMatch(/outbound.proxy.egress is empty/);
  });

  it('refuses credentials in the proxy URL (it lands in a ConfigMap)', async () => {
    const stderr = await renderError(helmBin, { set: { 'outbound.proxy.url': 'http://user:pw@proxy:3128' } });
    expect(stderr).toMatch(/outbound\/proxy\/url/);
  });

  describe("with Node's own proxy support", () => {
    let proxy: Server;
    let proxyUrl = '';
    const seen: string[] = [];

    beforeAll(async () => {
      // A forward proxy that answers itself. fetch (undici) tunnels with CONNECT, whose socket is handed back to
      // the same server; http.get sends absolute-form requests. It records what was asked of it as a proxy.
      proxy = createServer((req, res) => {
        if (req.url?.startsWith('http://')) seen.push(req.url);
        res.end('via-proxy');
      });
      proxy.on('connect', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
        seen.push(`CONNECT ${req.url}`);
        socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        proxy.emit('connection', socket);
        if (head.length > 0) socket.unshift(head);
      });
      await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
      proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    });
    afterAll(() => new Promise<void>((r) => proxy.close(() => r())));

    it('sends calls to the outside through the proxy and keeps calls to this release direct', async () => {
      const objects = await render(helmBin, proxied);
      const cm = one(
        ofKind<IConfigMap>(objects, 'ConfigMap').filter((c) => componentOf(c) === 'gateway'),
        'gateway ConfigMap',
      ).data;
      if (!cm?.NO_PROXY || !cm.CDS_HOOKS_URL) throw new Error('gateway ConfigMap lacks NO_PROXY or CDS_HOOKS_URL');
      // The gateway's own environment, with the proxy address swapped for the local one.
      const env = {
        PATH: process.env.PATH ?? '',
        NODE_USE_ENV_PROXY: cm.NODE_USE_ENV_PROXY,
        HTTP_PROXY: proxyUrl,
        HTTPS_PROXY: proxyUrl,
        NO_PROXY: cm.NO_PROXY,
      };
      const script = `
        const http = require('node:http');
        const viaFetch = (u) => fetch(u, { signal: AbortSignal.timeout(3000) }).then((r) => r.text(), (e) => 'direct:' + (e.cause?.code ?? e.message));
        const viaHttp = (u) => new Promise((done) => http.get(u, { timeout: 3000 }, (r) => { let b = ''; r.on('data', (c) => (b += c)); r.on('end', () => done(b)); }).on('error', (e) => done('direct:' + e.code)).on('timeout', function () { this.destroy(new Error('timeout')); }));
        (async () => {
          const out = {
            fhirFetch: await viaFetch('http://fhir.ehr-vendor.example/r4/metadata'),
            jwksHttp: await viaHttp('http://jwks.ehr-vendor.example/keys'),
            cdsHooks: await viaFetch(${JSON.stringify(cm.CDS_HOOKS_URL)} + '/cds-services'),
            inCluster: await viaFetch('http://kafka.meditron.svc.cluster.local:9092/'),
            hospital: await viaFetch('http://fhir.hospital.example/r4/metadata'),
          };
          process.stdout.write(JSON.stringify(out));
        })();`;
      const { stdout } = await promisify(execFile)(process.execPath, ['-e', script], { env, timeout: 20_000 });
      const out = JSON.parse(stdout) as Record<string, string>;
      expect(out.fhirFetch).toBe('via-proxy');
      expect(out.jwksHttp).toBe('via-proxy');
      for (const direct of ['cdsHooks', 'inCluster', 'hospital']) expect(out[direct]).toMatch(/^direct:/);
      expect(seen).toEqual(['CONNECT fhir.ehr-vendor.example:80', 'http://jwks.ehr-vendor.example/keys']);
    });
  });
});

describe('CA bundle', () => {
  it('mounts the bundle on every app pod and the migration Job, from a Secret or a ConfigMap', async () => {
    for (const [values, source] of [
      [example('production'), 'secret'],
      [example('openshift'), 'configMap'],
    ] as const) {
      const objects = await renderValid({ valuesFiles: [values] });
      const pods = podSpecs(objects).filter((p) => !/-(vllm|tgi)$/.test(p.owner));
      expect(pods.map((p) => p.owner).sort()).toHaveLength(4);
      for (const { owner, pod } of pods) {
        const volume = pod.volumes?.find((v) => v.name === 'ca-bundle');
        expect({ owner, source: volume?.[source] ? source : 'none' }).toEqual({ owner, source });
        const c = pod.containers[0];
        const path = c?.env?.find((e) => e.name === 'NODE_EXTRA_CA_CERTS')?.value;
        const mounted = c?.volumeMounts?.find((m) => m.name === 'ca-bundle')?.mountPath;
        expect({ owner, mounted }).toEqual({ owner, mounted: '/etc/meditron/ca' });
        if (owner.startsWith('Job/')) expect(path).toMatch(/^\/etc\/meditron\/ca\//);
      }
    }
  });

  it('tells how to point Postgres at it (sslrootcert)', async () => {
    const notes = await renderNotes(helmBin, { valuesFiles: [example('production')] });
    expect(notes).toContain('sslmode=verify-full&sslrootcert=/etc/meditron/ca/ca.crt');
  });

  it('refuses both a Secret and a ConfigMap', async () => {
    const stderr = await renderError(helmBin, {
      set: { 'outbound.caBundle.secretName': 'a', 'outbound.caBundle.configMapName': 'b' },
    });
    expect(stderr).toMatch(/not both/);
  });
});

describe('DNS presets', () => {
  const dnsRule = (objects: readonly K8sObject[]) =>
    (egressOf(objects, 'gateway') ?? []).find((r) => r.ports?.some((p) => p.port === 53 || p.port === 5353));

  it('reaches kube-dns by default', async () => {
    const rule = dnsRule(await renderValid({}));
    expect(rule?.to?.[0]?.podSelector?.matchLabels).toEqual({ 'k8s-app': 'kube-dns' });
    expect(rule?.ports?.map((p) => `${p.protocol}/${p.port}`).sort()).toEqual(['TCP/53', 'UDP/53']);
  });

  it('reaches openshift-dns on 5353 (the pods behind the Service port 53) on OpenShift', async () => {
    const rule = dnsRule(await renderValid({ valuesFiles: [example('openshift')] }));
    expect(rule?.to?.[0]?.namespaceSelector?.matchLabels).toEqual({ 'kubernetes.io/metadata.name': 'openshift-dns' });
    expect(rule?.ports?.map((p) => p.port)).toEqual(expect.arrayContaining([5353, 53]));
  });

  it('reaches the NodeLocal DNSCache address and the kube-dns ClusterIP with NodeLocal DNSCache', async () => {
    const rule = dnsRule(
      await renderValid({
        set: { 'networkPolicy.dns.preset': 'nodelocal', 'networkPolicy.dns.nodeLocal.clusterDnsIP': '10.96.0.10' },
      }),
    );
    const cidrs = rule?.to?.map((p) => p.ipBlock?.cidr).filter(Boolean);
    expect(cidrs).toEqual(['169.254.20.10/32', '10.96.0.10/32']);
    const stderr = await renderError(helmBin, { set: { 'networkPolicy.dns.preset': 'nodelocal' } });
    expect(stderr).toMatch(/clusterDnsIP is required/);
  });
});
