// The --ingress NAMESPACE/NAME reference. Its own module so that the CLIs check their flags (and
// print --help) without loading the Kubernetes and SSH clients that ingress.ts needs (about 1 s of
// CPU per start).

export interface IngressRef {
  namespace: string;
  name: string;
}

/** "ns/name" -> IngressRef (both DNS-1123 names, as Kubernetes requires); undefined when malformed. */
export function parseIngressRef(text: string): IngressRef | undefined {
  const m = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/([a-z0-9]([-a-z0-9.]*[a-z0-9])?)$/.exec(text);
  return m ? { namespace: m[1]!, name: m[3]! } : undefined;
}
