// The tracer's public shape. `TraceResult` without the `evidence` fields is the offline trace
// contract of design.md; the evidence (rule lines and counters) is for the verifier's checks.

export type DumpFormat = "iptables-save" | "iptables-list" | "nft";

export interface RuleRef {
  /** 1-based line in the dump */
  line: number;
  chain: string;
  /** the rule as written in the dump */
  text: string;
  /** from `iptables-save -c` / `-nvL` / nft `counter packets N bytes M`, when present */
  packets?: number;
  bytes?: number;
}

export interface TracedEndpoint {
  ip: string;
  port: number;
  /**
   * fraction of new connections that reach this endpoint; endpoint shares plus unresolved shares
   * are at most 1, the rest is dropped or rejected
   */
  share: number;
  /**
   * "comment": the address is read only from kube-proxy's `"ns/svc -> ip:port"` comment on the
   * jump, because the KUBE-SEP chain that would DNAT is not in the dump (a hint, not a fact)
   */
  from?: "comment";
  /** the KUBE-SEP-* chain (or nft chain) that DNATs to it */
  chain?: string;
  /** the rules walked from the entry to the DNAT, in order */
  evidence?: RuleRef[];
}

/** A share of new connections whose fate the dump does not show. */
export interface UnresolvedShare {
  /** the chain where the dump stops: a chain that is not in it, or one whose end is not */
  chain: string;
  share: number;
  /** e.g. "not in the dump", "the rest of the chain is not in the dump", "line 7 is cut" */
  reason: string;
}

export interface TracedService {
  service: string | null;
  protocol: "tcp" | "udp" | "sctp";
  clusterIP: string | null;
  port: number | null;
  nodePort: number | null;
  endpoints: TracedEndpoint[];
  /** what the dump does not show for clusterIP:port; [] with no endpoints = dropped */
  unresolved: UnresolvedShare[];
  /** null when the service has no nodePort; [] (with nodePortUnresolved []) when nodePort traffic is dropped */
  nodePortEndpoints: TracedEndpoint[] | null;
  /** null when the service has no nodePort */
  nodePortUnresolved: UnresolvedShare[] | null;
  /** KUBE-SVC-* / KUBE-EXT-* / KUBE-XLB-* chains involved */
  chains?: string[];
}

export interface TraceResult {
  format: DumpFormat;
  services: TracedService[];
  warnings: string[];
}
