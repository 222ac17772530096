// Pulumi mocks that also record what the engine would be told about each resource.
//
// Mocks#newResource only sees type, name, inputs and provider. Parent and dependsOn travel in the
// RegisterResourceRequest that the SDK sends to the (mock) monitor, so the harness wraps the mock
// monitor's registerResource and keeps, per resource: URN, parent URN, dependency URNs and the
// provider reference. That is the resource graph `pulumi up` would build.
import * as pulumi from "@pulumi/pulumi";

export interface Registration {
  type: string;
  name: string;
  urn: string;
  /** URN of the parent ("" for top-level resources in mocks, which have no stack resource). */
  parent: string;
  /** URNs of everything this resource depends on (explicit dependsOn and inputs' resources). */
  dependencies: string[];
  /** Provider reference "urn::id", or "" for the default provider / components. */
  provider: string;
  custom: boolean;
  /** Input properties whose changes the engine is told to ignore after create. */
  ignoreChanges: string[];
  inputs: Record<string, any>;
}

export const mockIds = {
  clusterEndpoint: "203.0.113.10",
  clusterCa: Buffer.from("mock-ca-pem").toString("base64"),
  serviceClusterIp: "10.96.0.42",
  pickedNodePort: 31234,
  loadBalancerIp: "198.51.100.7",
  publicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAImockmockmockmockmockmockmockmock",
  privateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nbW9jaw==\n-----END OPENSSH PRIVATE KEY-----\n",
} as const;

/** The state a real provider would report after create, for the fields the program reads. */
function computedState(type: string, name: string, inputs: Record<string, any>): Record<string, any> {
  switch (type) {
    case "gcp:container/cluster:Cluster":
      return { ...inputs, endpoint: mockIds.clusterEndpoint, masterAuth: { clusterCaCertificate: mockIds.clusterCa } };
    case "gcp:serviceaccount/account:Account":
      return { ...inputs, email: `${inputs.accountId}@${inputs.project}.iam.gserviceaccount.com` };
    case "gcp:compute/network:Network":
      return { ...inputs, selfLink: `https://www.googleapis.com/compute/v1/projects/p/global/networks/${inputs.name}` };
    case "tls:index/privateKey:PrivateKey":
      return { ...inputs, publicKeyOpenssh: `${mockIds.publicKey}\n`, privateKeyOpenssh: mockIds.privateKey };
    case "kubernetes:core/v1:Service":
      return {
        ...inputs,
        spec: {
          ...inputs.spec,
          clusterIP: mockIds.serviceClusterIp,
          ports: inputs.spec.ports.map((p: any) => ({ ...p, nodePort: p.nodePort ?? mockIds.pickedNodePort })),
        },
      };
    case "kubernetes:networking.k8s.io/v1:Ingress":
      return { ...inputs, status: { loadBalancer: { ingress: [{ ip: mockIds.loadBalancerIp }] } } };
    default:
      return { ...inputs, name: inputs.name ?? name };
  }
}

export class RecordingMocks {
  readonly registrations: Registration[] = [];
  private pending = 0;

  async install(stack = "test"): Promise<void> {
    await pulumi.runtime.setMocks(
      {
        newResource: (args) => ({ id: `${args.name}-id`, state: computedState(args.type, args.name, args.inputs) }),
        call: (args) => args.inputs,
      },
      "gke-ingress-path",
      stack,
      false,
    );
    const monitor = pulumi.runtime.getMonitor() as unknown as {
      registerResource(req: any, callback: (err: any, resp: any) => void): void;
    };
    const original = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req, callback) => {
      this.pending++;
      original(req, (err, resp) => {
        if (!err) {
          this.registrations.push({
            type: req.getType(),
            name: req.getName(),
            urn: resp.getUrn(),
            parent: req.getParent(),
            dependencies: req.getDependenciesList(),
            provider: req.getProvider(),
            custom: req.getCustom(),
            ignoreChanges: req.getIgnorechangesList(),
            inputs: req.getObject()?.toJavaScript() ?? {},
          });
        }
        this.pending--;
        callback(err, resp);
      });
    };
  }

  /** Waits until every registration the program started has come back. */
  async settle(): Promise<void> {
    let quietTurns = 0;
    while (quietTurns < 3) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      quietTurns = this.pending === 0 ? quietTurns + 1 : 0;
    }
  }

  reset(): void {
    this.registrations.length = 0;
  }

  byType(type: string): Registration[] {
    return this.registrations.filter((r) => r.type === type);
  }

  one(type: string): Registration {
    const found = this.byType(type);
    if (found.length !== 1) {
      throw new Error(`expected exactly one ${type}, found ${found.length}: ${this.registrations.map((r) => r.type).join(", ")}`);
    }
    return found[0]!;
  }

  byUrn(urn: string): Registration | undefined {
    return this.registrations.find((r) => r.urn === urn);
  }

  /** The URNs of the resource and of all its descendants' parents chain (true when `ancestorUrn` is on it). */
  hasAncestor(reg: Registration, ancestorUrn: string): boolean {
    let current: Registration | undefined = reg;
    while (current && current.parent) {
      if (current.parent === ancestorUrn) {
        return true;
      }
      current = this.byUrn(current.parent);
    }
    return false;
  }
}

const secretSig = "4dabf18193072939515e22adb298388d";

/** Strips Pulumi's secret wrappers from recorded inputs (keeps the values). */
export function unwrapSecrets(value: any): any {
  if (Array.isArray(value)) {
    return value.map(unwrapSecrets);
  }
  if (value !== null && typeof value === "object") {
    if (value[secretSig] === "1b47061264138c4ac30d75fd1eb44270") {
      return unwrapSecrets(value.value);
    }
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrapSecrets(v)]));
  }
  return value;
}

/** True when the recorded input value is a secret (as the engine would store it). */
export function isRecordedSecret(value: any): boolean {
  return value !== null && typeof value === "object" && value[secretSig] === "1b47061264138c4ac30d75fd1eb44270";
}

/** The value of an output (mocks run in update mode, so values are known). */
export function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply((v) => resolve(v)));
}

/** Raw config for parseConfig / setAllConfig: short keys get the project namespace; project null = unset. */
export function rawConfig(values: Record<string, string>, project: string | null = "demo-project-1"): Record<string, string> {
  const raw: Record<string, string> = {};
  if (project !== null) {
    raw["gcp:project"] = project;
  }
  for (const [key, value] of Object.entries(values)) {
    raw[key.includes(":") ? key : `gke-ingress-path:${key}`] = value;
  }
  return raw;
}
