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
  /** fraction of new connections that reach this endpoint; the shares of one list sum to 1 */
  share: number;
  /** the KUBE-SEP-* chain (or nft chain) that DNATs to it */
  chain?: string;
  /** the rules walked from the entry to the DNAT, in order */
  evidence?: RuleRef[];
}

export interface TracedService {
  service: string | null;
  protocol: "tcp" | "udp" | "sctp";
  clusterIP: string | null;
  port: number | null;
  nodePort: number | null;
  endpoints: TracedEndpoint[];
  /** null when the service has no nodePort; [] when nodePort traffic is dropped */
  nodePortEndpoints: TracedEndpoint[] | null;
  /** KUBE-SVC-* / KUBE-EXT-* / KUBE-XLB-* chains involved */
  chains?: string[];
}

export interface TraceResult {
  format: DumpFormat;
  services: TracedService[];
  warnings: string[];
}
