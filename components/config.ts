// The stack config (design.md, "contract: config keys"): read, defaulted and validated here and
// nowhere else. Values are read as raw strings and checked by this module, so every bad value is
// reported at once (pulumi.Config's getNumber/requireObject would stop at the first one), before
// any resource is registered.
import * as pulumi from "@pulumi/pulumi";
import { projectName } from "./names";

export type BackendMode = "instance-group" | "neg";
export type LocationKind = "zone" | "region";

/** The validated, defaulted config the components take. */
export interface IngressPathConfig {
  project: string;
  location: string;
  locationKind: LocationKind;
  /** The region that holds `location` (the location itself for a regional cluster). */
  region: string;
  /** Total nodes in the cluster. */
  nodeCount: number;
  /** What the node pool's `nodeCount` must be: per zone, so nodeCount / 3 for a region. */
  nodesPerZone: number;
  machineType: string;
  spot: boolean;
  replicas: number;
  image: string;
  servicePort: number;
  podPort: number;
  /** undefined: Kubernetes picks one from 30000..32767. */
  nodePort: number | undefined;
  backendMode: BackendMode;
  sshSourceRanges: string[];
}

/** One bad value: the key, what was given, and the rule it breaks (with how to fix it). */
export interface ConfigIssue {
  key: string;
  value: string | undefined;
  rule: string;
}

/** GKE spreads a regional cluster's nodes over 3 zones of the region unless told otherwise. */
export const regionalZoneCount = 3;

export const defaultImage = "us-docker.pkg.dev/google-samples/containers/gke/hello-app:1.0";

export const configDefaults = {
  location: "us-central1-a",
  nodeCount: 3,
  machineType: "e2-medium",
  spot: true,
  replicas: 2,
  image: defaultImage,
  servicePort: 80,
  podPort: 8080,
  backendMode: "instance-group" as BackendMode,
  // Google's IAP TCP-forwarding range: `gcloud compute ssh --tunnel-through-iap` comes from here.
  sshSourceRanges: ["35.235.240.0/20"],
} as const;

/** The keys of the project namespace, in the order of design.md's table. */
export const configKeys = [
  "location",
  "nodeCount",
  "machineType",
  "spot",
  "replicas",
  "image",
  "servicePort",
  "podPort",
  "nodePort",
  "backendMode",
  "sshSourceRanges",
] as const;
export type ConfigKey = (typeof configKeys)[number];

/** Raw config as Pulumi holds it: full keys ("gke-ingress-path:nodeCount", "gcp:project") to strings. */
export type RawConfig = Readonly<Record<string, string | undefined>>;

const regionPattern = /^[a-z]+-[a-z]+[0-9]+$/;
const zonePattern = /^([a-z]+-[a-z]+[0-9]+)-[a-z]$/;
// Project ids: 6..30 chars, lowercase letter first; legacy domain-scoped ids carry "domain:" in front.
const projectPattern = /^([a-z0-9.-]+:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$/;
const machineTypePattern = /^[a-z][a-z0-9]*(-[a-z0-9]+)+$/;

export class ConfigError extends pulumi.RunError {
  constructor(readonly issues: ConfigIssue[]) {
    super(formatIssues(issues));
    this.name = "ConfigError";
  }
}

export function formatIssues(issues: ConfigIssue[]): string {
  const lines = issues.map((i) => `  - ${i.key} = ${i.value === undefined ? "(unset)" : JSON.stringify(i.value)}: ${i.rule}`);
  return `invalid stack config (${issues.length} problem${issues.length === 1 ? "" : "s"}):\n${lines.join("\n")}`;
}

/**
 * Validates raw config. Returns the config, or every issue found (never just the first).
 * Pure: tests and the preflight call it without a Pulumi runtime.
 */
export function parseConfig(raw: RawConfig): { config: IngressPathConfig; issues: [] } | { config?: undefined; issues: ConfigIssue[] } {
  const issues: ConfigIssue[] = [];
  const fullKey = (key: ConfigKey) => `${projectName}:${key}`;
  const get = (key: ConfigKey): string | undefined => {
    const value = raw[fullKey(key)];
    return value === undefined || value.trim() === "" ? undefined : value.trim();
  };
  const fail = (key: string, value: string | undefined, rule: string) => issues.push({ key, value, rule });

  for (const key of Object.keys(raw)) {
    const [namespace, name] = splitKey(key);
    if (namespace === projectName && !(configKeys as readonly string[]).includes(name)) {
      fail(key, raw[key], `unknown key; the keys are ${configKeys.join(", ")} (check the spelling, they are case-sensitive)`);
    }
  }

  const project = raw["gcp:project"]?.trim();
  if (project === undefined || project === "") {
    fail("gcp:project", project, "required: the Google Cloud project to build in; set it with `pulumi config set gcp:project <project-id>`");
  } else if (!projectPattern.test(project)) {
    fail("gcp:project", project, "must be a project id (6-30 characters: lowercase letters, digits, hyphens, starting with a letter), not a project name or number");
  }

  const location = get("location") ?? configDefaults.location;
  let locationKind: LocationKind | undefined;
  let region = location;
  const zoneMatch = zonePattern.exec(location);
  if (zoneMatch) {
    locationKind = "zone";
    region = zoneMatch[1]!;
  } else if (regionPattern.test(location)) {
    locationKind = "region";
  } else {
    fail(fullKey("location"), location, "must be a zone like us-central1-a (zonal cluster) or a region like us-central1 (regional cluster)");
  }

  const nodeCount = integer("nodeCount", configDefaults.nodeCount, 1, 1000, "nodes in total");
  if (nodeCount !== undefined && locationKind === "region" && nodeCount % regionalZoneCount !== 0) {
    fail(
      fullKey("nodeCount"),
      String(nodeCount),
      `a regional cluster puts the same number of nodes in each of its ${regionalZoneCount} zones, so nodeCount must be a multiple of ${regionalZoneCount} (or use a zone as location)`,
    );
  }

  const machineType = get("machineType") ?? configDefaults.machineType;
  if (!machineTypePattern.test(machineType)) {
    fail(fullKey("machineType"), machineType, "must be a Compute Engine machine type like e2-medium or n2-standard-2");
  }

  const spot = boolean("spot", configDefaults.spot);

  const replicas = integer("replicas", configDefaults.replicas, 1, 1000, "pods");
  if (replicas !== undefined && nodeCount !== undefined && replicas > nodeCount) {
    fail(
      fullKey("replicas"),
      String(replicas),
      `must be <= nodeCount (${nodeCount}): each pod must run on its own node (required pod anti-affinity), so extra pods would stay Pending and the Deployment would never become ready`,
    );
  }

  const image = get("image") ?? configDefaults.image;
  if (/\s/.test(image)) {
    fail(fullKey("image"), image, "must be a container image reference without spaces, e.g. " + defaultImage);
  }

  const servicePort = integer("servicePort", configDefaults.servicePort, 1, 65535, "the Service port (s-port)");
  const podPort = integer("podPort", configDefaults.podPort, 1, 65535, "the container port (p-port)");
  const nodePort = get("nodePort") === undefined ? undefined : integer("nodePort", undefined, 30000, 32767, "the NodePort (n-port), Kubernetes' default NodePort range");

  const backendModeRaw = get("backendMode") ?? configDefaults.backendMode;
  let backendMode: BackendMode | undefined;
  if (backendModeRaw === "instance-group" || backendModeRaw === "neg") {
    backendMode = backendModeRaw;
  } else {
    fail(fullKey("backendMode"), backendModeRaw, 'must be "instance-group" (the article: LB -> nodes -> iptables) or "neg" (today\'s container-native default: LB -> pods)');
  }

  const sshSourceRanges = cidrList("sshSourceRanges", configDefaults.sshSourceRanges);

  if (issues.length > 0) {
    return { issues };
  }
  return {
    issues: [],
    config: {
      project: project!,
      location,
      locationKind: locationKind!,
      region,
      nodeCount: nodeCount!,
      nodesPerZone: locationKind === "region" ? nodeCount! / regionalZoneCount : nodeCount!,
      machineType,
      spot: spot!,
      replicas: replicas!,
      image,
      servicePort: servicePort!,
      podPort: podPort!,
      nodePort,
      backendMode: backendMode!,
      sshSourceRanges: sshSourceRanges!,
    },
  };

  function integer(key: ConfigKey, fallback: number | undefined, min: number, max: number, what: string): number | undefined {
    const text = get(key);
    if (text === undefined) {
      return fallback;
    }
    if (!/^[0-9]+$/.test(text) || Number(text) < min || Number(text) > max) {
      fail(fullKey(key), text, `must be a whole number from ${min} to ${max} (${what})`);
      return undefined;
    }
    return Number(text);
  }

  function boolean(key: ConfigKey, fallback: boolean): boolean | undefined {
    const text = get(key);
    if (text === undefined) {
      return fallback;
    }
    if (text === "true" || text === "false") {
      return text === "true";
    }
    fail(fullKey(key), text, "must be true or false");
    return undefined;
  }

  function cidrList(key: ConfigKey, fallback: readonly string[]): string[] | undefined {
    const text = get(key);
    if (text === undefined) {
      return [...fallback];
    }
    let entries: unknown;
    if (text.startsWith("[")) {
      try {
        entries = JSON.parse(text);
      } catch {
        fail(fullKey(key), text, 'must be a JSON list of CIDRs like ["203.0.113.7/32"] (or one CIDR, or CIDRs separated by commas)');
        return undefined;
      }
    } else {
      entries = text.split(",").map((s) => s.trim());
    }
    if (!Array.isArray(entries) || entries.length === 0) {
      fail(fullKey(key), text, "must list at least one CIDR");
      return undefined;
    }
    const ranges: string[] = [];
    let ok = true;
    for (const entry of entries) {
      const problem = typeof entry === "string" ? cidrProblem(entry) : "is not a string";
      if (problem !== undefined) {
        fail(fullKey(key), typeof entry === "string" ? entry : JSON.stringify(entry), problem);
        ok = false;
      } else {
        ranges.push(entry as string);
      }
    }
    return ok ? ranges : undefined;
  }
}

/** Why a string is not an acceptable SSH source CIDR, or undefined when it is. */
export function cidrProblem(cidr: string): string | undefined {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  if (!match) {
    return "must be an IPv4 CIDR like 203.0.113.7/32";
  }
  const octets = match.slice(1, 5).map(Number);
  const prefix = Number(match[5]);
  if (octets.some((o) => o > 255) || prefix > 32) {
    return "must be an IPv4 CIDR like 203.0.113.7/32 (octets 0-255, prefix 0-32)";
  }
  if (prefix === 0) {
    return "refused: a /0 range (such as 0.0.0.0/0) opens SSH on every node to the whole internet; use your own address as x.x.x.x/32 or IAP's 35.235.240.0/20";
  }
  const address = octets.reduce((acc, o) => acc * 256 + o, 0);
  const size = 2 ** (32 - prefix);
  const network = Math.floor(address / size) * size;
  if (network !== address) {
    const canonical = [24, 16, 8, 0].map((shift) => Math.floor(network / 2 ** shift) % 256).join(".");
    return `has host bits set; write the network address: ${canonical}/${prefix}`;
  }
  return undefined;
}

function splitKey(key: string): [string, string] {
  const colon = key.indexOf(":");
  return colon < 0 ? ["", key] : [key.slice(0, colon), key.slice(colon + 1)];
}

/** Reads the running stack's config, validates it, and throws one ConfigError listing every problem. */
export function loadConfig(raw: RawConfig = pulumi.runtime.allConfig()): IngressPathConfig {
  const result = parseConfig(raw);
  if (result.config === undefined) {
    throw new ConfigError(result.issues);
  }
  return result.config;
}
